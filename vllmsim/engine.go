package vllmsim

import (
	"context"
	"sync"
	"sync/atomic"
)

// engine admits requests the way vLLM's scheduler does, reduced to its
// observable effect: at most maxSeqs running, admission in strict FIFO
// order, and a KV-cache reservation of prompt+max_tokens per request.
type engine struct {
	maxSeqs int
	kvCap   int64
	cache   *prefixCache // nil when prefix caching is off

	mu       sync.Mutex
	running  int
	reserved int64
	queue    []*waiter // FIFO; queue[0] is the head

	nRunning atomic.Int64 // mirrors running, read by /metrics without the lock
	nWaiting atomic.Int64 // mirrors len(queue)
	kvInUse  atomic.Int64 // prompt + generated-so-far tokens of running requests
}

type waiter struct {
	need     int64
	ready    chan struct{}
	admitted bool // set under engine.mu before ready is closed
}

// acquire blocks until the request may run or ctx ends. need is the KV
// reservation in tokens and must not exceed kvCap. onWait, if not nil, is
// called once when the request has to queue.
func (e *engine) acquire(ctx context.Context, need int64, onWait func()) error {
	e.mu.Lock()
	if len(e.queue) == 0 && e.fitsLocked(need) {
		e.admitLocked(need)
		e.mu.Unlock()
		return nil
	}
	w := &waiter{need: need, ready: make(chan struct{})}
	e.queue = append(e.queue, w)
	e.nWaiting.Store(int64(len(e.queue)))
	e.mu.Unlock()
	if onWait != nil {
		onWait()
	}

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	if w.admitted { // admitted while we were giving up: hand the slot back
		e.mu.Unlock()
		e.release(need)
		return ctx.Err()
	}
	for i, q := range e.queue {
		if q == w {
			e.queue = append(e.queue[:i], e.queue[i+1:]...)
			break
		}
	}
	e.nWaiting.Store(int64(len(e.queue)))
	e.drainLocked() // a large head leaving may let smaller ones in
	e.mu.Unlock()
	return ctx.Err()
}

// release frees a slot and the reservation taken by acquire.
func (e *engine) release(need int64) {
	e.mu.Lock()
	e.running--
	e.reserved -= need
	e.nRunning.Store(int64(e.running))
	e.drainLocked()
	e.mu.Unlock()
}

func (e *engine) fitsLocked(need int64) bool {
	return e.running < e.maxSeqs && e.reserved+need <= e.kvCap
}

func (e *engine) admitLocked(need int64) {
	e.running++
	e.reserved += need
	e.nRunning.Store(int64(e.running))
}

// drainLocked admits waiters from the head while they fit.
func (e *engine) drainLocked() {
	n := 0
	for n < len(e.queue) && e.fitsLocked(e.queue[n].need) {
		w := e.queue[n]
		e.admitLocked(w.need)
		w.admitted = true
		close(w.ready)
		e.queue[n] = nil
		n++
	}
	if n > 0 {
		e.queue = e.queue[n:]
		if len(e.queue) == 0 {
			e.queue = nil
		}
		e.nWaiting.Store(int64(len(e.queue)))
	}
}
