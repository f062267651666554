package serverstats

import (
	"github.com/vmtest/vmtest/snapshot"
)

// FillInterval sets the server fields of v from the last scrape added and the step since the one before it
// (the strict per-interval view of the window). The collector's vLLM sampler calls it right after Add took in
// a scrape the collector keeps; on a tick without a new scrape it must not be called (the fields stay null).
// Every field it sets is first cleared; the client-side fields are left alone.
//
//   - RequestQueueSize, ActiveBatchSize: the gauges summed over series in the last scrape; KVCacheUsagePercent:
//     the mean over series (engines), percent. Nil when the last scrape did not expose them.
//   - GenerationTokensTotal, PromptTokensTotal, RequestSuccessTotal: the counters' values in the last scrape,
//     summed over series.
//   - ScrapeIntervalS: the time between the last two scrapes added, s; nil after the first.
//   - TokensPerSecond, PromptTokensPerSecond, RequestsPerSecond: the counters' increase over that step divided
//     by ScrapeIntervalS; nil when ScrapeIntervalS is under Window.MinRateInterval (the run's last, short
//     step). A counter not exposed in the previous scrape (created on first use, as vLLM and
//     llm-d-inference-sim do) counts from 0, as in the window; a series created in the step likewise.
//   - ServerTTFTP50MS ... ServerQueueTimeP99MS and ServerE2EP90MS, their _LowerBoundMS, _BucketLowerMS,
//     _BucketUpperMS and _AtMostMS companions, ServerTTFTMeanMS, ServerE2EMeanMS and ServerRequestsFinished:
//     the increase of every bucket of each latency histogram over the step, merged per `le` over series onto
//     the bounds every series has, with quantiles as Prometheus's histogram_quantile computes them
//     (BucketQuantile), converted from seconds to ms. A quantile in the +Inf bucket sets its _LowerBoundMS
//     companion to the highest finite bound, ms, and leaves the quantile nil; the bucket companions are the
//     Quantile's BucketLowerMS, BucketUpperMS and AtMostMS. The means are the _sum increase over the _count
//     increase. ServerRequestsFinished is the increase of the E2E histogram's _count.
//
// A rate or histogram figure is nil (strict, unlike the window, which survives these) when fewer than two
// scrapes were added; the process restarted in the step; a series of it went down (a reset) or changed its
// bucket bounds in the step; a series the previous scrape had is gone; a series is back after scrapes without
// it (the increase spans more than one interval; after a restart the window counts it from 0); or the field is
// read from another name than in the previous scrape. A quantile is also nil when the step saw no observation.
func (w *Window) FillInterval(v *snapshot.VLLM) {
	fb := floatBlock{size: 10}
	v.RequestQueueSize = fb.ok(w.lastGauge(gQueue))
	v.ActiveBatchSize = fb.ok(w.lastGauge(gRunning))
	v.KVCacheUsagePercent = fb.ok(w.lastGauge(gKV))
	v.GenerationTokensTotal = fb.ok(w.counterValue(cGen))
	v.PromptTokensTotal = fb.ok(w.counterValue(cPrompt))
	v.RequestSuccessTotal = fb.ok(w.counterValue(cSuccess))
	v.ScrapeIntervalS, v.TokensPerSecond, v.PromptTokensPerSecond, v.RequestsPerSecond = nil, nil, nil, nil
	if w.scrapes >= 2 {
		if dt := w.last.Sub(w.prevAt).Seconds(); dt > 0 {
			v.ScrapeIntervalS = fb.f(dt)
		}
		if dt := w.last.Sub(w.prevAt); dt > 0 && dt >= w.MinRateInterval {
			rate := func(ci int) *float64 {
				x, ok := w.stepCounter(ci)
				return fb.ok(x/dt.Seconds(), ok)
			}
			v.TokensPerSecond = rate(cGen)
			v.PromptTokensPerSecond = rate(cPrompt)
			v.RequestsPerSecond = rate(cSuccess)
		}
	}
	setIntervalQuantiles(v, w.stepHistogram)
}

// lastGauge is gauge field gi's per-scrape aggregate in the last scrape; false when that scrape lacked it.
func (w *Window) lastGauge(gi int) (float64, bool) {
	a := &w.gAll[gi]
	if a.n == 0 || a.lastAt != w.scrapes {
		return 0, false
	}
	return a.last, true
}

// counterValue is counter field ci's value in the last scrape, summed over its series (in id order); false
// when that scrape did not expose it.
func (w *Window) counterValue(ci int) (float64, bool) {
	name := w.lastNames[scalarFields[ci].Field]
	if name == "" {
		return 0, false
	}
	var sum float64
	any := false
	for _, cs := range w.cByName[name] {
		if cs.seenAt == w.scrapes {
			sum += cs.prev
			any = true
		}
	}
	return sum, any
}

// stepCounter is counter field ci's increase over the last step, false when it is not fully known (see
// FillInterval).
func (w *Window) stepCounter(ci int) (float64, bool) {
	f := scalarFields[ci].Field
	name := w.lastNames[f]
	if w.scrapes < 2 || w.restartAt == w.scrapes || name == "" {
		return 0, false
	}
	if prev := w.prevNames[f]; prev != "" && prev != name {
		return 0, false // the field switched names: the new name's series are only a baseline
	}
	var sum float64
	for _, cs := range w.cByName[name] {
		switch {
		case cs.seenAt == w.scrapes-1:
			return 0, false // in the previous scrape, not in this one
		case cs.stepAt == w.scrapes && (cs.stepReset || cs.stepGap):
			return 0, false
		case cs.stepAt == w.scrapes:
			sum += cs.step
		}
	}
	return sum, true
}

// intervalQuantile is where one per-interval quantile goes in a snapshot.VLLM: its value, its lower bound (in
// the +Inf bucket) and its bucket's bounds.
type intervalQuantile struct {
	value, lowerBound, bucketLower, bucketUpper, atMost **float64
}

// intervalHist is where one histogram's per-interval figures go: its mean and its quantiles (mean and p90
// zero where the snapshot has no field for them).
type intervalHist struct {
	mean          **float64
	p50, p90, p99 intervalQuantile
}

// intervalDsts maps each latency histogram to the fields of v it fills.
func intervalDsts(v *snapshot.VLLM) [nHist]intervalHist {
	return [nHist]intervalHist{
		hTTFT: {mean: &v.ServerTTFTMeanMS,
			p50: intervalQuantile{&v.ServerTTFTP50MS, &v.ServerTTFTP50LowerBoundMS, &v.ServerTTFTP50BucketLowerMS, &v.ServerTTFTP50BucketUpperMS, &v.ServerTTFTP50AtMostMS},
			p99: intervalQuantile{&v.ServerTTFTP99MS, &v.ServerTTFTP99LowerBoundMS, &v.ServerTTFTP99BucketLowerMS, &v.ServerTTFTP99BucketUpperMS, &v.ServerTTFTP99AtMostMS}},
		hE2E: {mean: &v.ServerE2EMeanMS,
			p50: intervalQuantile{&v.ServerE2EP50MS, &v.ServerE2EP50LowerBoundMS, &v.ServerE2EP50BucketLowerMS, &v.ServerE2EP50BucketUpperMS, &v.ServerE2EP50AtMostMS},
			p90: intervalQuantile{&v.ServerE2EP90MS, &v.ServerE2EP90LowerBoundMS, &v.ServerE2EP90BucketLowerMS, &v.ServerE2EP90BucketUpperMS, &v.ServerE2EP90AtMostMS},
			p99: intervalQuantile{&v.ServerE2EP99MS, &v.ServerE2EP99LowerBoundMS, &v.ServerE2EP99BucketLowerMS, &v.ServerE2EP99BucketUpperMS, &v.ServerE2EP99AtMostMS}},
		hQueue: {
			p50: intervalQuantile{&v.ServerQueueTimeP50MS, &v.ServerQueueTimeP50LowerBoundMS, &v.ServerQueueTimeP50BucketLowerMS, &v.ServerQueueTimeP50BucketUpperMS, &v.ServerQueueTimeP50AtMostMS},
			p99: intervalQuantile{&v.ServerQueueTimeP99MS, &v.ServerQueueTimeP99LowerBoundMS, &v.ServerQueueTimeP99BucketLowerMS, &v.ServerQueueTimeP99BucketUpperMS, &v.ServerQueueTimeP99AtMostMS}},
		hITL: {
			p50: intervalQuantile{&v.ServerITLP50MS, &v.ServerITLP50LowerBoundMS, &v.ServerITLP50BucketLowerMS, &v.ServerITLP50BucketUpperMS, &v.ServerITLP50AtMostMS},
			p99: intervalQuantile{&v.ServerITLP99MS, &v.ServerITLP99LowerBoundMS, &v.ServerITLP99BucketLowerMS, &v.ServerITLP99BucketUpperMS, &v.ServerITLP99AtMostMS}},
	}
}

// setIntervalQuantiles sets the per-interval latency fields of v from step(hi), each latency histogram over
// the interval (nil when unknown); see FillInterval.
func setIntervalQuantiles(v *snapshot.VLLM, step func(hi int) *Histogram) {
	v.ServerRequestsFinished = nil
	for hi, d := range intervalDsts(v) {
		h := step(hi)
		if d.mean != nil {
			*d.mean = nil
			if h != nil {
				*d.mean = h.MeanMS
			}
		}
		var p50, p90, p99 *Quantile
		if h != nil {
			p50, p90, p99 = h.P50MS, h.P90MS, h.P99MS
		}
		d.p50.set(p50)
		d.p99.set(p99)
		if d.p90.value != nil {
			d.p90.set(p90)
		}
		if hi == hE2E && h != nil {
			v.ServerRequestsFinished = snapshot.F(h.Count)
		}
	}
}

// set writes q into the fields d points at: the value, or (nil, its lower bound) when it lies in the +Inf
// bucket, and its bucket's bounds; every field nil when q is.
func (d intervalQuantile) set(q *Quantile) {
	*d.value, *d.lowerBound, *d.bucketLower, *d.bucketUpper, *d.atMost = nil, nil, nil, nil, nil
	if q == nil {
		return
	}
	if q.IsLowerBound {
		*d.lowerBound = q.LowerBoundMS
	} else {
		*d.value = q.ValueMS
	}
	*d.bucketLower, *d.bucketUpper, *d.atMost = q.BucketLowerMS, q.BucketUpperMS, q.AtMostMS
}

// stepHistogram returns histogram field hi over the last step, or nil when that step's increase is not
// fully known (see FillInterval).
func (w *Window) stepHistogram(hi int) *Histogram {
	if !w.stepKnown(hi) {
		return nil
	}
	return w.histogram(hi, true, "", false)
}

// stepKnown says whether histogram field hi's increase over the last step is fully known (see FillInterval).
func (w *Window) stepKnown(hi int) bool {
	if w.scrapes < 2 || w.restartAt == w.scrapes {
		return false
	}
	f := histFields[hi]
	if prev := w.prevNames[f]; prev != "" && prev != w.lastNames[f] {
		return false
	}
	for _, hs := range w.hList[hi] {
		if hs.stepAt == w.scrapes && (hs.stepReset || hs.stepGap) {
			return false // reset, bucket-set change or restart in the step, or a step longer than one interval
		}
		if hs.seenAt == w.scrapes-1 {
			return false // in the previous scrape, not in this one
		}
	}
	return true
}
