package vmtest

import (
	"context"
	"errors"
	"time"
)

// tickTimer is what the collector's loop waits on between ticks: a Go timer (goTimer), or a kernel timer
// (Options.KernelTimer: newKernelTimer).
type tickTimer interface {
	// wait returns after d, or as soon as ctx is done; it reports whether d passed with ctx not done.
	wait(ctx context.Context, d time.Duration) bool
	// stop releases the timer; wait must not be called after it.
	stop()
}

// newTickTimer returns a kernel timer when kernel is true and the system gives one, else a Go timer; err
// says why a kernel timer asked for on Linux could not be had (nil off Linux, where none is expected).
func newTickTimer(kernel bool) (t tickTimer, err error) {
	if kernel {
		if t, err = newKernelTimer(); err == nil {
			return t, nil
		}
		if errors.Is(err, errNoKernelTimer) {
			err = nil
		}
	}
	return &goTimer{}, err
}

// errNoKernelTimer is newKernelTimer's error off Linux, where Options.KernelTimer is ignored.
var errNoKernelTimer = errors.New("no kernel timer on this system")

// goTimer is a tickTimer on a time.Timer, made at the first wait: it follows a testing/synctest bubble's clock.
type goTimer struct{ t *time.Timer }

func (g *goTimer) wait(ctx context.Context, d time.Duration) bool {
	if g.t == nil {
		g.t = time.NewTimer(d)
	} else {
		g.t.Reset(d)
	}
	select {
	case <-ctx.Done():
		return false
	case <-g.t.C:
		return true
	}
}

func (g *goTimer) stop() {
	if g.t != nil {
		g.t.Stop()
	}
}
