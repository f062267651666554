// Package sweep finds the highest load an LLM server sustains within its SLO: it runs a ladder of request
// rates (open loop) or concurrencies (closed loop), given or found by bisection between two bounds, one step
// after another, each with its own warm-up, collector (vmtest.Start/Finish) and files, and judges each step's
// summary against the SLO (threshold expressions, assert.ParseThreshold, and any other assert.Check). It
// reports the highest load whose step met every check and the knee of the latency curve (FindKnee: the Kneedle
// method), in one comparison report (report.ComparisonMarkdown and report.ComparisonHTML, with a throughput
// versus latency plot over the steps) beside each step's own files.
//
// A step stops early, and says so, once its SLO can no longer be met whatever its remaining requests do (its
// error budget is spent, or enough requests are over a percentile's limit to decide that percentile); that
// needs the step's planned request count (loadgen.LoadConfig.Requests); DESIGN.md ("Load sweeps") gives the proof.
package sweep
