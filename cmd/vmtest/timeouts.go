package main

import (
	"flag"
	"fmt"

	"github.com/vmtest/vmtest/loadgen"
)

// registerTimeouts registers the flags that bound each request and the end of a load run, shared by load and
// sweep: -header-timeout, -first-token-timeout and -stall-timeout (loadgen.ClientConfig) and -drain-timeout
// (loadgen.LoadConfig.DrainTimeout, default loadgen.DefaultDrainTimeout).
func registerTimeouts(fs *flag.FlagSet, lc *loadgen.LoadConfig) {
	fs.DurationVar(&lc.Client.HeaderTimeout, "header-timeout", loadgen.DefaultHeaderTimeout, "the longest a streaming request waits for the response headers; a negative value: no limit")
	fs.DurationVar(&lc.Client.FirstTokenTimeout, "first-token-timeout", loadgen.DefaultFirstTokenTimeout, "the longest a request waits for its first token; a negative value: no limit")
	fs.DurationVar(&lc.Client.StallTimeout, "stall-timeout", loadgen.DefaultStallTimeout, "the longest a stream may send nothing once its first bytes came; a negative value: no limit")
	fs.DurationVar(&lc.DrainTimeout, "drain-timeout", loadgen.DefaultDrainTimeout, "once sending stops (-duration or -requests), the longest requests in flight may take to end; then they are cut and counted incomplete (in error_rate); when not given, it is also at least twice the slowest request that ended OK; 0: wait for them all (each bounded by the limits above)")
}

// checkTimeouts returns an error naming -drain-timeout when it is negative (the others take a negative value
// as no limit); without -drain-timeout (set: the flags given), the drain also lasts twice the slowest OK
// request when that is longer (loadgen.LoadConfig.DrainAfterSlowest).
func checkTimeouts(set map[string]bool, lc *loadgen.LoadConfig) error {
	if lc.DrainTimeout < 0 {
		return fmt.Errorf("-drain-timeout %v: must not be negative (0: wait for every request in flight)", lc.DrainTimeout)
	}
	lc.DrainAfterSlowest = !set["drain-timeout"]
	return nil
}

// drainText says how a run ends after sending stops, for the start line.
func drainText(lc loadgen.LoadConfig) string {
	if lc.DrainTimeout <= 0 {
		return lc.DrainText()
	}
	return lc.DrainText() + " (-drain-timeout; requests still in flight then are cut and count in error_rate)"
}
