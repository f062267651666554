package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vmtest/vmtest/vmtest"
)

// cliTB is the testing.TB that vmtest.Collect runs under outside `go test`. testing.TB has an unexported
// method, so the interface is embedded (nil); every method vmtest.Collect and the Collector call is
// overridden here: Helper, Name, Log, Logf, Errorf, Fatalf, Cleanup (and ArtifactDir, which vmtest.OutputDir
// may call). Any other method would panic on the nil interface: vmtest never calls them.
//
// Log lines go to out, errors to errOut. Fatalf stops the function given to run at once (as t.FailNow ends a
// test), the cleanups then run in reverse order, and run reports exit status 2. Errorf marks the run failed
// (status 1) and lets it go on. Fatalf must be called from the goroutine that runs run's function or a
// cleanup; vmtest's own goroutines never call the TB.
type cliTB struct {
	testing.TB

	name        string
	out, errOut io.Writer
	// fatalHint, when set, is printed after a Fatalf message (which names an Options field: say which flag
	// set it).
	fatalHint string

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	fatal    bool
}

// fatalPanic is what Fatalf panics with; run recovers it.
type fatalPanic struct{}

func newCLITB(name string, out, errOut io.Writer) *cliTB {
	return &cliTB{name: name, out: out, errOut: errOut}
}

func (t *cliTB) Helper()      {}
func (t *cliTB) Name() string { return t.name }

// ArtifactDir is the directory vmtest.OutputDir would pick for a test of this name: there is no `go test
// -artifacts` outside go test (it can only be asked for when this command's tests run with -artifacts).
func (t *cliTB) ArtifactDir() string { return filepath.Join("metrics_output", vmtest.Sanitize(t.name)) }

func (t *cliTB) Log(args ...any) { t.print(t.out, fmt.Sprintln(args...)) }
func (t *cliTB) Logf(format string, args ...any) {
	t.print(t.out, fmt.Sprintf(format, args...))
}

func (t *cliTB) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	t.print(t.errOut, fmt.Sprintf(format, args...))
}

// Fatalf reports the error and stops the caller: nothing after it in run's function (or in the cleanup that
// called it) runs.
func (t *cliTB) Fatalf(format string, args ...any) {
	t.mu.Lock()
	t.failed, t.fatal = true, true
	t.mu.Unlock()
	t.print(t.errOut, fmt.Sprintf(format, args...))
	if t.fatalHint != "" {
		t.print(t.errOut, t.fatalHint)
	}
	panic(fatalPanic{})
}

func (t *cliTB) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

func (t *cliTB) print(w io.Writer, s string) {
	if len(s) == 0 || s[len(s)-1] != '\n' {
		s += "\n"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(w, s)
}

// run calls f, then the registered cleanups in reverse order (each runs even when f or an earlier cleanup
// called Fatalf), and returns the exit status: 2 when Fatalf was called, 1 when Errorf was, else 0. A panic
// other than Fatalf's is re-raised once the cleanups have run, as `go test` does.
func (t *cliTB) run(f func()) int {
	var other any
	t.guard(f, &other)
	for {
		t.mu.Lock()
		n := len(t.cleanups)
		if n == 0 {
			t.mu.Unlock()
			break
		}
		c := t.cleanups[n-1]
		t.cleanups = t.cleanups[:n-1]
		t.mu.Unlock()
		t.guard(c, &other)
	}
	if other != nil {
		panic(other)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.fatal:
		return exitUsage
	case t.failed:
		return exitFail
	}
	return exitOK
}

// guard calls f, recovering Fatalf's panic; the first other panic is kept in *other.
func (t *cliTB) guard(f func(), other *any) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatalPanic); !ok && *other == nil {
				*other = p
			}
		}
	}()
	f()
}
