package vllmsim

import (
	"context"
	"time"
)

// coarseMargin is how far before a deadline the Go timer is aimed. Go's
// timers wake up to ~1 ms late on Linux (the netpoller waits in whole
// milliseconds), so the last stretch is slept with fineSleep instead.
const coarseMargin = 2 * time.Millisecond

// fineSlots bounds how many goroutines may be in fineSleep at once; each
// holds an OS thread for at most coarseMargin. Beyond it, waits fall back
// to the Go timer (at worst ~1 ms late).
var fineSlots = make(chan struct{}, 16)

// waiter state for one request: a reusable timer, created on first use.
type sleeper struct {
	t *time.Timer
}

// until blocks until the absolute time dl or until ctx ends, whichever is
// first, and returns ctx.Err() in the latter case. It is accurate to about
// 0.1 ms on Linux. A deadline already passed returns at once without a
// system call.
func (s *sleeper) until(ctx context.Context, dl time.Time) error {
	d := time.Until(dl)
	if d <= 0 {
		return nil
	}
	if d > coarseMargin {
		if s.t == nil {
			s.t = time.NewTimer(d - coarseMargin)
		} else {
			s.t.Reset(d - coarseMargin)
		}
		select {
		case <-s.t.C:
		case <-ctx.Done():
			s.t.Stop()
			return ctx.Err()
		}
		d = time.Until(dl)
		if d <= 0 {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case fineSlots <- struct{}{}:
		fineSleep(d)
		<-fineSlots
		return nil
	default:
	}
	if s.t == nil {
		s.t = time.NewTimer(d)
	} else {
		s.t.Reset(d)
	}
	select {
	case <-s.t.C:
		return nil
	case <-ctx.Done():
		s.t.Stop()
		return ctx.Err()
	}
}

func (s *sleeper) stop() {
	if s.t != nil {
		s.t.Stop()
	}
}
