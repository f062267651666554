package serverstats

import "github.com/vmtest/vmtest/snapshot"

// SetInterval sets the per-interval server-side fields of v — ServerTTFTP50MS ... ServerQueueTimeP99MS, their
// _LowerBoundMS companions and ServerRequestsFinished (see snapshot.VLLM) — from the last step of the window:
// the increase of every bucket of each latency histogram between the last two scrapes added, summed per `le`
// over series (engines), with quantiles as Prometheus's histogram_quantile computes them (BucketQuantile),
// converted from seconds to ms. The collector calls it on a tick right after Add took in that tick's scrape;
// on a tick without a new scrape it must not be called (the last step is an older interval), and the fields
// stay null.
//
// Every field it sets is first cleared. A histogram's fields stay nil when:
//
//   - fewer than two scrapes were added (the first scrape is only a baseline);
//   - the histogram is not exposed in this scrape, or only under a name the previous scrape did not read it
//     from (a series that first appears in this scrape under the same name counts from 0, as in Window: vLLM
//     creates a series at its first use);
//   - a series of it was reset in the step (a count went down, the bucket bounds changed, or the process
//     restarted: Window counts such a step from 0, which would miss the observations made before the reset,
//     so here the interval is unknown rather than understated);
//   - a series that the previous scrape had is gone from this one (its observations in the step are unknown);
//   - a series (or the whole histogram) is back after one or more scrapes without it: its increase spans those
//     intervals too, and their share of it is unknown.
//
// With none of these, ServerRequestsFinished is the increase of the E2E histogram's _count (0 when no request
// finished), and a quantile is nil only when the step saw no observation. A quantile in the +Inf bucket sets
// its _LowerBoundMS companion to the highest finite bound, ms, and leaves the quantile nil.
func (w *Window) SetInterval(v *snapshot.VLLM) {
	dsts := [nHist]struct{ p50, p99, p50LB, p99LB **float64 }{
		hTTFT:  {&v.ServerTTFTP50MS, &v.ServerTTFTP99MS, &v.ServerTTFTP50LowerBoundMS, &v.ServerTTFTP99LowerBoundMS},
		hE2E:   {&v.ServerE2EP50MS, &v.ServerE2EP99MS, &v.ServerE2EP50LowerBoundMS, &v.ServerE2EP99LowerBoundMS},
		hQueue: {&v.ServerQueueTimeP50MS, &v.ServerQueueTimeP99MS, &v.ServerQueueTimeP50LowerBoundMS, &v.ServerQueueTimeP99LowerBoundMS},
		hITL:   {&v.ServerITLP50MS, &v.ServerITLP99MS, &v.ServerITLP50LowerBoundMS, &v.ServerITLP99LowerBoundMS},
	}
	v.ServerRequestsFinished = nil
	for hi, d := range dsts {
		*d.p50, *d.p99, *d.p50LB, *d.p99LB = nil, nil, nil, nil
		h := w.stepHistogram(hi)
		if h == nil {
			continue
		}
		*d.p50, *d.p50LB = splitQuantile(h.P50MS)
		*d.p99, *d.p99LB = splitQuantile(h.P99MS)
		if hi == hE2E {
			v.ServerRequestsFinished = snapshot.F(h.Count)
		}
	}
}

// stepHistogram returns histogram field hi over the last step, or nil when that step's increase is not
// fully known (see SetInterval).
func (w *Window) stepHistogram(hi int) *Histogram {
	if w.scrapes < 2 {
		return nil
	}
	for _, hs := range w.hList[hi] {
		if hs.stepAt == w.scrapes && (hs.stepReset || hs.stepGap) {
			return nil // reset, bucket-set change or restart in the step, or a step longer than one interval
		}
		if hs.seenAt == w.scrapes-1 {
			return nil // in the previous scrape, not in this one
		}
	}
	return w.histogram(hi, true, "", false)
}

// splitQuantile returns a quantile's value, or (nil, its lower bound) when it lies in the +Inf bucket.
func splitQuantile(q *Quantile) (value, lowerBound *float64) {
	if q == nil {
		return nil, nil
	}
	if q.IsLowerBound {
		return nil, q.LowerBoundMS
	}
	return q.ValueMS, nil
}
