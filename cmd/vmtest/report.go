package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vmtest/vmtest/report"
)

func reportMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "report"
	fs := newFlagSet(cmd, "metrics_<config>_<timestamp>.json ...",
		"Re-renders metrics_<config>_<timestamp>.csv and .png beside each snapshots file given, from its snapshots\n"+
			"(each file written atomically), and prints their paths.")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() == 0 {
		return usageErr(stderr, cmd, "want a metrics_<config>_<timestamp>.json file")
	}
	code := exitOK
	for _, path := range fs.Args() {
		if err := rerender(stdout, path); err != nil {
			fmt.Fprintf(stderr, "vmtest %s: %v\n", cmd, err)
			code = exitFail
		}
	}
	return code
}

// rerender writes the CSV and the PNG of the snapshots file at path beside it, as the collector wrote them.
func rerender(stdout io.Writer, path string) error {
	if !strings.HasSuffix(path, ".json") {
		return fmt.Errorf("%s: want a metrics_<config>_<timestamp>.json file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return fmt.Errorf("%s: not JSON: %v", path, err)
	}
	if _, ok := probe["snapshots"]; !ok {
		return fmt.Errorf("%s: not a snapshots file (metrics_<config>_<timestamp>.json): no \"snapshots\"", path)
	}
	var sf report.SnapshotFile
	if err := json.Unmarshal(data, &sf); err != nil {
		return fmt.Errorf("%s: not a snapshots file (metrics_<config>_<timestamp>.json): %v", path, err)
	}
	if len(sf.Snapshots) == 0 {
		return fmt.Errorf("%s: no snapshots (the placeholder of a run that is still going, or that never finished)", path)
	}
	base := strings.TrimSuffix(path, ".json")
	csv, err := report.SnapshotsCSV(sf.Snapshots)
	if err != nil {
		return fmt.Errorf("%s: CSV: %v", path, err)
	}
	png, err := report.PlotPNG(sf.Snapshots, sf.ConfigID, sf.IntervalS)
	if err != nil {
		return fmt.Errorf("%s: plot: %v", path, err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{base + ".csv", csv}, {base + ".png", png}} {
		if err := report.WriteFileAtomic(f.path, f.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vmtest: wrote %s\n", f.path)
	}
	return nil
}
