package samplers

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/snapshot"
)

// nodeState is what a fake node_exporter serves: counters in node_exporter's text format.
type nodeState struct {
	boot      float64
	cpu       [2]map[string]float64 // per CPU: mode → s
	netRecv   map[string]float64
	netSent   map[string]float64
	diskRead  map[string]float64
	diskWrite map[string]float64
	load1     float64
	memTotal  float64
	memAvail  float64
}

func (s nodeState) text() string {
	var b strings.Builder
	b.WriteString("# HELP node_boot_time_seconds Node boot time, in unixtime.\n# TYPE node_boot_time_seconds gauge\n")
	fmt.Fprintf(&b, "node_boot_time_seconds %g\n", s.boot)
	b.WriteString("# TYPE node_cpu_seconds_total counter\n")
	for i, modes := range s.cpu {
		for m, v := range modes {
			fmt.Fprintf(&b, "node_cpu_seconds_total{cpu=\"%d\",mode=%q} %g\n", i, m, v)
		}
	}
	fam := func(name, typ string, m map[string]float64) {
		fmt.Fprintf(&b, "# TYPE %s %s\n", name, typ)
		for dev, v := range m {
			fmt.Fprintf(&b, "%s{device=%q} %g\n", name, dev, v)
		}
	}
	fam("node_network_receive_bytes_total", "counter", s.netRecv)
	fam("node_network_transmit_bytes_total", "counter", s.netSent)
	fam("node_disk_read_bytes_total", "counter", s.diskRead)
	fam("node_disk_written_bytes_total", "counter", s.diskWrite)
	fmt.Fprintf(&b, "# TYPE node_load1 gauge\nnode_load1 %g\n", s.load1)
	fmt.Fprintf(&b, "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes %g\n", s.memTotal)
	fmt.Fprintf(&b, "# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes %g\n", s.memAvail)
	return b.String()
}

// fakeNode serves whatever body is set last (503 when down), and checks the bearer token when want is set.
type fakeNode struct {
	mu   sync.Mutex
	body string
	down bool
	want string
}

func (f *fakeNode) set(body string, down bool) {
	f.mu.Lock()
	f.body, f.down = body, down
	f.mu.Unlock()
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.want != "" && r.Header.Get("Authorization") != "Bearer "+f.want {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if f.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte(f.body))
}

// stepClock returns a clock that starts at t0 and moves by step on each call.
func stepClock(step time.Duration) func() time.Time {
	t := time.Unix(1_800_000_000, 0)
	return func() time.Time { t = t.Add(step); return t }
}

// takeNode samples once and commits, as the collector does for a kept reading.
func takeNode(t *testing.T, n *NodeExporter) (snapshot.Node, error) {
	t.Helper()
	r := n.Sample(context.Background())
	if r.Commit != nil {
		r.Commit(&r)
	}
	node, ok := r.Nodes[n.Node()]
	if !ok || len(r.Nodes) != 1 {
		t.Fatalf("reading's Nodes = %v, want one entry %q", r.Nodes, n.Node())
	}
	return node, r.Err
}

func eqF(t *testing.T, field string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %g", field, want)
	} else if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", field, *got, want)
	}
}

func isNil(t *testing.T, field string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %g, want nil", field, *got)
	}
}

// first and second are two readings 2 s apart, with the increases worked out by hand in TestNodeExporterRates.
func twoNodeStates() (first, second nodeState) {
	first = nodeState{
		boot: 1.7e9,
		cpu: [2]map[string]float64{
			{"idle": 100, "iowait": 10, "user": 50, "system": 20, "nice": 0, "irq": 0, "softirq": 5, "steal": 0},
			{"idle": 200, "iowait": 0, "user": 30, "system": 10, "nice": 1, "irq": 0, "softirq": 0, "steal": 0},
		},
		netRecv:   map[string]float64{"eth0": 1000, "eth1": 0, "lo": 1e6, "veth1a2b": 0, "docker0": 50},
		netSent:   map[string]float64{"eth0": 500, "eth1": 0, "lo": 1e6, "veth1a2b": 0, "docker0": 50},
		diskRead:  map[string]float64{"sda": 1000, "sda1": 1000, "nvme0n1": 0, "nvme0n1p1": 0, "dm-0": 0, "loop0": 0},
		diskWrite: map[string]float64{"sda": 0, "sda1": 0, "nvme0n1": 0, "nvme0n1p1": 0, "dm-0": 0, "loop0": 0},
		load1:     2.5, memTotal: 16 * gib, memAvail: 4 * gib,
	}
	second = nodeState{
		boot: 1.7e9,
		cpu: [2]map[string]float64{
			{"idle": 101, "iowait": 10.2, "user": 50.5, "system": 20.2, "nice": 0, "irq": 0, "softirq": 5.1, "steal": 0},
			{"idle": 201.5, "iowait": 0, "user": 30.4, "system": 10.1, "nice": 1, "irq": 0, "softirq": 0, "steal": 0},
		},
		netRecv:   map[string]float64{"eth0": 5000, "eth1": 1000, "lo": 2e6, "veth1a2b": 1e5, "docker0": 9e5},
		netSent:   map[string]float64{"eth0": 2500, "eth1": 0, "lo": 2e6, "veth1a2b": 1e5, "docker0": 9e5},
		diskRead:  map[string]float64{"sda": 3000, "sda1": 3000, "nvme0n1": 4000, "nvme0n1p1": 4000, "dm-0": 4000, "loop0": 7},
		diskWrite: map[string]float64{"sda": 8192, "sda1": 8192, "nvme0n1": 0, "nvme0n1p1": 0, "dm-0": 8192, "loop0": 0},
		load1:     3.25, memTotal: 16 * gib, memAvail: 3 * gib,
	}
	return first, second
}

func TestNodeExporterRates(t *testing.T) {
	first, second := twoNodeStates()
	fake := &fakeNode{want: "s3cret"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	n, err := NewNodeExporter(NodeExporterConfig{Name: "gpu-node-1", URL: srv.URL + "/metrics", Auth: auth.Config{BearerToken: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	n.now = stepClock(2 * time.Second)
	if n.Name() != "node:gpu-node-1" {
		t.Errorf("Name() = %q", n.Name())
	}

	fake.set(first.text(), false)
	got, err := takeNode(t, n)
	if err != nil {
		t.Fatal(err)
	}
	eqF(t, "first Load1", got.Load1, 2.5)
	eqF(t, "first MemoryGB", got.MemoryGB, 12)
	eqF(t, "first MemoryAvailableGB", got.MemoryAvailableGB, 4)
	eqF(t, "first MemoryTotalGB", got.MemoryTotalGB, 16)
	for name, v := range map[string]*float64{"CPUPercent": got.CPUPercent, "RateIntervalS": got.RateIntervalS,
		"NetworkRecvBytesPerSecond": got.NetworkRecvBytesPerSecond, "DiskReadBytesPerSecond": got.DiskReadBytesPerSecond} {
		isNil(t, "first "+name, v)
	}

	fake.set(second.text(), false)
	got, err = takeNode(t, n)
	if err != nil {
		t.Fatal(err)
	}
	// CPU increases: idle 1 + 1.5, iowait 0.2 → 2.7 s; user 0.5 + 0.4, system 0.2 + 0.1, softirq 0.1 → 1.3 s;
	// all modes 4.0 s: 100 × 1.3 / 4.0 = 32.5 %.
	eqF(t, "CPUPercent", got.CPUPercent, 32.5)
	eqF(t, "RateIntervalS", got.RateIntervalS, 2)
	eqF(t, "Load1", got.Load1, 3.25)
	eqF(t, "MemoryGB", got.MemoryGB, 13)
	// Network: eth0 +4000 and eth1 +1000 received, eth0 +2000 sent (lo, veth*, docker0 left out), over 2 s.
	eqF(t, "NetworkRecvBytesPerSecond", got.NetworkRecvBytesPerSecond, 2500)
	eqF(t, "NetworkSentBytesPerSecond", got.NetworkSentBytesPerSecond, 1000)
	// Disks: sda +2000 and nvme0n1 +4000 read, sda +8192 written (partitions, dm-0, loop0 left out), over 2 s.
	eqF(t, "DiskReadBytesPerSecond", got.DiskReadBytesPerSecond, 3000)
	eqF(t, "DiskWriteBytesPerSecond", got.DiskWriteBytesPerSecond, 4096)

	// A counter that goes down (eth0 received) is a reset: that interval's receive rate is null, the rest stay.
	third := second
	third.netRecv = map[string]float64{"eth0": 10, "eth1": 1000, "lo": 2e6, "veth1a2b": 1e5, "docker0": 9e5}
	fake.set(third.text(), false)
	got, _ = takeNode(t, n)
	isNil(t, "after a reset NetworkRecvBytesPerSecond", got.NetworkRecvBytesPerSecond)
	eqF(t, "after a reset NetworkSentBytesPerSecond", got.NetworkSentBytesPerSecond, 0)
	isNil(t, "CPUPercent with no CPU time", got.CPUPercent) // no mode moved: under MinCPUSeconds

	// A reboot (boot time changed): no rate at all over that interval, the gauges still read.
	fourth := first
	fourth.boot = 1.8e9
	fake.set(fourth.text(), false)
	got, _ = takeNode(t, n)
	isNil(t, "after a reboot CPUPercent", got.CPUPercent)
	isNil(t, "after a reboot RateIntervalS", got.RateIntervalS)
	isNil(t, "after a reboot DiskReadBytesPerSecond", got.DiskReadBytesPerSecond)
	eqF(t, "after a reboot Load1", got.Load1, 2.5)
}

// TestNodeExporterDown: a node that fails has all-null figures and an error naming it (credentials redacted);
// another node is unaffected; the failed node's next reading has no rate (no base), the one after has.
func TestNodeExporterDown(t *testing.T) {
	first, second := twoNodeStates()
	upFake, downFake := &fakeNode{}, &fakeNode{}
	up, down := httptest.NewServer(upFake), httptest.NewServer(downFake)
	defer up.Close()
	defer down.Close()
	a, _ := NewNodeExporter(NodeExporterConfig{Name: "a", URL: up.URL})
	downURL := strings.Replace(down.URL, "http://", "http://user:hunter2@", 1)
	b, _ := NewNodeExporter(NodeExporterConfig{Name: "b", URL: downURL})
	a.now, b.now = stepClock(2*time.Second), stepClock(2*time.Second)

	upFake.set(first.text(), false)
	downFake.set(first.text(), false)
	takeNode(t, a)
	takeNode(t, b)
	upFake.set(second.text(), false)
	downFake.set(second.text(), true)
	ga, errA := takeNode(t, a)
	gb, errB := takeNode(t, b)
	if errA != nil {
		t.Fatal(errA)
	}
	eqF(t, "a CPUPercent", ga.CPUPercent, 32.5)
	if errB == nil || !strings.Contains(errB.Error(), "503") || strings.Contains(errB.Error(), "hunter2") {
		t.Errorf("b's error = %v, want an HTTP 503 error without the password", errB)
	}
	if gb != (snapshot.Node{}) {
		t.Errorf("down node's figures = %+v, want all nil", gb)
	}
	downFake.set(first.text(), false)
	gb, _ = takeNode(t, b)
	isNil(t, "b CPUPercent right after the outage", gb.CPUPercent)
	eqF(t, "b MemoryGB right after the outage", gb.MemoryGB, 12)
	downFake.set(second.text(), false)
	gb, _ = takeNode(t, b)
	eqF(t, "b CPUPercent", gb.CPUPercent, 32.5)
}

// TestNodeExporterDiscardedReading: a reading the collector does not keep (no Commit) leaves the base as it was.
func TestNodeExporterDiscardedReading(t *testing.T) {
	first, second := twoNodeStates()
	fake := &fakeNode{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	n, _ := NewNodeExporter(NodeExporterConfig{Name: "n", URL: srv.URL})
	n.now = stepClock(time.Second)
	fake.set(first.text(), false)
	takeNode(t, n)
	fake.set(second.text(), false)
	n.Sample(context.Background()) // late: discarded, never committed
	got, _ := takeNode(t, n)
	eqF(t, "RateIntervalS", got.RateIntervalS, 2) // from the first reading (the clock moved twice)
	eqF(t, "DiskReadBytesPerSecond", got.DiskReadBytesPerSecond, 3000)
}

func TestNodeExporterBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("# padding\n", 200)))
	}))
	defer srv.Close()
	n, _ := NewNodeExporter(NodeExporterConfig{Name: "n", URL: srv.URL})
	n.maxBody = 1000
	if _, err := takeNode(t, n); err == nil || !strings.Contains(err.Error(), "exceeds 1000 bytes") {
		t.Errorf("err = %v, want the body bound", err)
	}
}

// TestNodeExporterCapture reads two bodies of Debian's prometheus-node-exporter 1.5.0 taken 2 s apart on a
// 2-CPU VM (testdata/node_exporter_{1,2}.txt); the expected figures are worked out from their lines by hand.
func TestNodeExporterCapture(t *testing.T) {
	bodies := make([]string, 2)
	for i := range bodies {
		b, err := os.ReadFile(fmt.Sprintf("testdata/node_exporter_%d.txt", i+1))
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = string(b)
	}
	fake := &fakeNode{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	n, _ := NewNodeExporter(NodeExporterConfig{Name: "vm", URL: srv.URL})
	n.now = stepClock(2 * time.Second)
	fake.set(bodies[0], false)
	takeNode(t, n)
	fake.set(bodies[1], false)
	got, err := takeNode(t, n)
	if err != nil {
		t.Fatal(err)
	}
	// Modes summed over cpu 0 and 1: idle 7935.67 and iowait 26.15 both times; softirq 136.08 → 136.15,
	// system 4088.84 → 4089.32, user 32150.10 → 32153.70: every CPU second was busy.
	eqF(t, "CPUPercent", got.CPUPercent, 100)
	eqF(t, "Load1", got.Load1, 13.43)
	eqF(t, "MemoryTotalGB", got.MemoryTotalGB, 25276203008.0/gib)
	eqF(t, "MemoryGB", got.MemoryGB, (25276203008.0-23688540160.0)/gib)
	// vda read 8144946176 → 8144962560, written 53270851584 → 53383286784 (zram0 left out), over 2 s.
	eqF(t, "DiskReadBytesPerSecond", got.DiskReadBytesPerSecond, 16384.0/2)
	eqF(t, "DiskWriteBytesPerSecond", got.DiskWriteBytesPerSecond, 112435200.0/2)
	// eth0 did not move (lo and ifb0/ifb1 left out).
	eqF(t, "NetworkRecvBytesPerSecond", got.NetworkRecvBytesPerSecond, 0)
}

func TestParseNodeExporter(t *testing.T) {
	for _, c := range []struct{ spec, name, url, err string }{
		{"http://node1:9100/metrics", "node1", "http://node1:9100/metrics", ""},
		{"gpu-a=http://10.0.0.7:9100/metrics", "gpu-a", "http://10.0.0.7:9100/metrics", ""},
		{" b = https://x.example/metrics ", "b", "https://x.example/metrics", ""},
		{"http://10.0.0.7:9100/metrics?a=b", "10.0.0.7", "http://10.0.0.7:9100/metrics?a=b", ""},
		{"node1:9100", "", "", "not an http(s) URL"},
		{"=http://x/metrics", "", "", "empty node name"},
		{"a b=http://x/metrics", "", "", "letters, digits"},
		{"n=http://u:topsecret@/metrics", "", "", "not an http(s) URL"},
	} {
		name, u, err := ParseNodeExporter(c.spec)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "topsecret") {
				t.Errorf("ParseNodeExporter(%q) error = %v, want one containing %q and no password", c.spec, err, c.err)
			}
			continue
		}
		if err != nil || name != c.name || u != c.url {
			t.Errorf("ParseNodeExporter(%q) = %q, %q, %v; want %q, %q", c.spec, name, u, err, c.name, c.url)
		}
	}
}

func TestPhysicalNIC(t *testing.T) {
	for dev, want := range map[string]bool{"eth0": true, "ens5": true, "enp65s0f0": true, "ib0": true, "lo": false,
		"veth9f3": false, "docker0": false, "cni0": false, "flannel.1": false, "cali12ab": false, "bond0": false,
		"eth0.100": false, "tunl0": false, "ifb0": false, "br-1a2b": false} {
		if got := physicalNIC(dev); got != want {
			t.Errorf("physicalNIC(%q) = %v, want %v", dev, got, want)
		}
	}
}

// nodeLines keeps exactly the wanted families: parsing what it keeps gives what parsing the whole capture
// gives for them.
func TestNodeLinesKeepsWanted(t *testing.T) {
	body, err := os.ReadFile("testdata/node_exporter_1.txt")
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	all, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseNode(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(nodeWanted) {
		t.Errorf("parsed %d families, want the %d wanted", len(got), len(nodeWanted))
	}
	for name := range nodeWanted {
		if all[name].String() == "" || all[name].String() != got[name].String() {
			t.Errorf("family %s differs:\n%v\nwant\n%v", name, got[name], all[name])
		}
	}
}

// A URL that is not a node_exporter's /metrics (its HTML landing page, a vLLM /metrics) is an error naming
// the URL and the series missing, not a reading of all-null figures.
func TestNodeExporterNotNodeExporter(t *testing.T) {
	vllm, err := os.ReadFile("../testdata/vllm/v1-idle-qwen2.5-0.5b.prom")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"html": "<html><head><title>Node Exporter</title></head><body><a href=\"/metrics\">Metrics</a></body></html>\n",
		"vllm": string(vllm),
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(body))
		}))
		n, _ := NewNodeExporter(NodeExporterConfig{Name: "n", URL: srv.URL + "/"})
		_, err := takeNode(t, n)
		if err == nil || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "no node_cpu_seconds_total") ||
			!strings.Contains(err.Error(), "is this a node_exporter /metrics URL?") {
			t.Errorf("%s: err = %v; want one naming %s and the node_* series missing", name, err, srv.URL)
		}
		srv.Close()
	}
}
