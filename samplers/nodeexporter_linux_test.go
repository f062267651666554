package samplers

import (
	"context"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/vmtest/vmtest/snapshot"
)

// TestNodeExporterReal scrapes Debian's prometheus-node-exporter on a loopback port: the node's total memory is
// the host's MemTotal as /proc/meminfo gives it (this is the same host).
func TestNodeExporterReal(t *testing.T) {
	bin, err := exec.LookPath("prometheus-node-exporter")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("prometheus-node-exporter not installed (apt-get install prometheus-node-exporter)")
		}
		t.Skip("prometheus-node-exporter not installed: apt-get install prometheus-node-exporter")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--collector.disable-defaults",
		"--collector.cpu", "--collector.meminfo", "--collector.loadavg", "--collector.netdev", "--collector.diskstats", "--collector.stat")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	n, _ := NewNodeExporter(NodeExporterConfig{Name: "self", URL: "http://" + addr + "/metrics"})
	n.now = stepClock(time.Second)
	var got snapshot.Node
	for i := 0; ; i++ { // wait until it listens: readiness, not timing
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r := n.Sample(ctx)
		cancel()
		if r.Err == nil {
			r.Commit(&r)
			got = r.Nodes["self"]
			break
		}
		if i == 200 {
			t.Fatalf("node_exporter never answered: %v", r.Err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	vm, err := newProcReader("/proc").memory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "MemoryTotalGB", got.MemoryTotalGB, float64(vm.Total)/gib)
	if got.Load1 == nil || *got.Load1 < 0 {
		t.Errorf("Load1 = %v, want a load", got.Load1)
	}
	got, err = takeNode(t, n)
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "RateIntervalS", got.RateIntervalS, 1)
	for name, v := range map[string]*float64{"CPUPercent": got.CPUPercent, "NetworkRecvBytesPerSecond": got.NetworkRecvBytesPerSecond,
		"DiskReadBytesPerSecond": got.DiskReadBytesPerSecond} {
		if v != nil && (*v < 0 || name == "CPUPercent" && *v > 100) {
			t.Errorf("%s = %g, out of range", name, *v)
		}
	}
}
