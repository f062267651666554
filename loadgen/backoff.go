package loadgen

import (
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/vmtest/vmtest/recorder"
)

// pause is what one request asks of its closed-loop worker before the next: nothing, the exponential
// back-off (a connection failure, a reset, a rejection without Retry-After), or a Retry-After wait.
type pause struct {
	exponential bool
	retryAfter  time.Duration
}

// backoff is a closed-loop worker's state: its current exponential step and the wait before its next request.
type backoff struct {
	step, wait time.Duration
}

// next returns the worker's state after a request that asked p of it, from state b: a Retry-After wait
// leaves the exponential step as it was; the exponential back-off doubles it from ConnectBackoffMin up to
// ConnectBackoffMax; any other request resets it.
func (p pause) next(b backoff) backoff {
	switch {
	case p.retryAfter > 0:
		return backoff{step: b.step, wait: p.retryAfter}
	case !p.exponential:
		return backoff{}
	case b.step == 0:
		return backoff{step: ConnectBackoffMin, wait: ConnectBackoffMin}
	default:
		s := min(2*b.step, ConnectBackoffMax)
		return backoff{step: s, wait: s}
	}
}

// pauseAfter decides what rec asks of its worker (see LoadConfig.Concurrency) and counts resets and
// Retry-After waits.
func (r *run) pauseAfter(rec *recorder.Request, noConn bool) pause {
	switch {
	case noConn:
		return pause{exponential: true}
	case rec.Outcome == recorder.OutcomeFailed && rec.HTTPStatus == 0 && isReset(rec.Err):
		r.resets.Add(1)
		return pause{exponential: true}
	case rec.Outcome != recorder.OutcomeRejected || r.cfg.IgnoreRetryAfter || r.cfg.Rate > 0:
		return pause{}
	}
	var he *HTTPError
	if errors.As(rec.Err, &he) && he.RetryAfter > 0 {
		limit := r.cfg.MaxRetryAfter
		if limit == 0 {
			limit = DefaultMaxRetryAfter
		}
		r.raWaits.Add(1)
		return pause{retryAfter: min(he.RetryAfter, limit)}
	}
	return pause{exponential: true}
}

// isReset reports whether err says the server reset or closed the connection before any response.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
