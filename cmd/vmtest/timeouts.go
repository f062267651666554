package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/vmtest/vmtest/loadgen"
)

// registerTimeouts registers the flags that bound each request and the end of a load run, shared by load and
// sweep: -header-timeout, -first-token-timeout and -stall-timeout (loadgen.ClientConfig) and -drain-timeout
// (loadgen.LoadConfig.DrainTimeout, default loadgen.DefaultDrainTimeout).
func registerTimeouts(fs *flag.FlagSet, lc *loadgen.LoadConfig) {
	fs.DurationVar(&lc.Client.HeaderTimeout, "header-timeout", loadgen.DefaultHeaderTimeout, "the longest a streaming request waits for the response headers; a negative value: no limit")
	fs.DurationVar(&lc.Client.FirstTokenTimeout, "first-token-timeout", loadgen.DefaultFirstTokenTimeout, "the longest a request waits for its first token; a negative value: no limit")
	fs.DurationVar(&lc.Client.StallTimeout, "stall-timeout", loadgen.DefaultStallTimeout, "the longest a stream may send nothing once its first bytes came; a negative value: no limit")
	fs.DurationVar(&lc.DrainTimeout, "drain-timeout", loadgen.DefaultDrainTimeout, "once sending stops (-duration or -requests), the longest requests in flight may take to end; then they are cut and counted incomplete; 0: wait for them all (each bounded by the limits above)")
}

// checkTimeouts returns an error naming -drain-timeout when it is negative (the others take a negative value
// as no limit).
func checkTimeouts(lc loadgen.LoadConfig) error {
	if lc.DrainTimeout < 0 {
		return fmt.Errorf("-drain-timeout %v: must not be negative (0: wait for every request in flight)", lc.DrainTimeout)
	}
	return nil
}

// drainText says how a run ends after sending stops, for the start line.
func drainText(d time.Duration) string {
	if d == 0 {
		return "then waits for every request in flight"
	}
	return fmt.Sprintf("then at most %v for requests in flight (-drain-timeout)", d)
}
