package promsource

import "time"

// SetNow makes d read the clock from now (tests over fixed samples).
func (d *DCGMSampler) SetNow(now func() time.Time) { d.now = now }

// SetNow makes s read the clock from now (tests over fixed samples).
func (s *Sampler) SetNow(now func() time.Time) { s.now = now }
