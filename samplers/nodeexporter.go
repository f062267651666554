package samplers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/shirou/gopsutil/v4/disk"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/snapshot"
)

// nodeMaxBody bounds one node_exporter scrape's body (a 64-core node with a few disks and interfaces and the
// default collectors is ~150 KiB).
const nodeMaxBody = 16 << 20

// node_exporter series (collector/cpu_linux.go, loadavg, meminfo, netdev, diskstats, stat) a node reading uses.
const (
	nodeCPUSeconds  = "node_cpu_seconds_total"           // counter, s, labels cpu and mode
	nodeLoad1       = "node_load1"                       // gauge
	nodeMemTotal    = "node_memory_MemTotal_bytes"       // gauge, bytes
	nodeMemAvail    = "node_memory_MemAvailable_bytes"   // gauge, bytes
	nodeNetRecv     = "node_network_receive_bytes_total" // counter, bytes, label device
	nodeNetSent     = "node_network_transmit_bytes_total"
	nodeDiskRead    = "node_disk_read_bytes_total" // counter, bytes, label device
	nodeDiskWritten = "node_disk_written_bytes_total"
	nodeBootTime    = "node_boot_time_seconds" // gauge, Unix s: a change is a reboot
)

var nodeWanted = map[string]bool{nodeCPUSeconds: true, nodeLoad1: true, nodeMemTotal: true, nodeMemAvail: true,
	nodeNetRecv: true, nodeNetSent: true, nodeDiskRead: true, nodeDiskWritten: true, nodeBootTime: true}

// NodeSourcePrefix starts the source name of each node_exporter sampler ("node:<name>"), which keys its errors
// in snapshot.Snapshot.Errors and its status and outages in the summary.
const NodeSourcePrefix = "node:"

// NodeExporterConfig configures one server node's node_exporter scrape.
type NodeExporterConfig struct {
	// Name keys the node's figures (snapshot.Snapshot.NodeMetrics, CSV columns node_<name>_<field>): letters,
	// digits, '.', '-' and '_' only (ParseNodeExporter gives the URL's host when the user names none).
	Name string
	// URL is node_exporter's /metrics URL, http or https with a host ("http://node1:9100/metrics"); credentials
	// in it are sent as basic auth and never shown.
	URL string
	// Auth is sent with every scrape (bearer token, basic auth, headers).
	Auth auth.Config
	// HTTPClient makes the requests; nil: a new http.Client (each Sample is bounded by its context).
	HTTPClient *http.Client
	// MinCPUSeconds is the least CPU time, s summed over the node's CPUs, between two readings for a CPU
	// percent; 0: 0.1 (10 clock ticks at USER_HZ 100), as for the host sampler.
	MinCPUSeconds float64
}

// ParseNodeExporter splits a node_exporter target written "name=url" or "url" into the node's name and URL;
// the name defaults to the URL's host (without the port). An error names what is wrong: a URL that is not
// http(s) with a host, or a name with characters other than letters, digits, '.', '-' and '_'.
func ParseNodeExporter(spec string) (name, rawURL string, err error) {
	spec = strings.TrimSpace(spec)
	rawURL = spec
	if n, u, ok := strings.Cut(spec, "="); ok && !strings.Contains(n, "/") {
		name, rawURL = strings.TrimSpace(n), strings.TrimSpace(u)
		if name == "" {
			return "", "", fmt.Errorf("%q: empty node name before '=' (write name=url or url)", redactSpec(spec))
		}
	}
	u, perr := url.Parse(rawURL)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%q: not an http(s) URL with a host (want e.g. http://node1:9100/metrics or node1=http://10.0.0.1:9100/metrics)", redactSpec(spec))
	}
	if name == "" {
		name = u.Hostname()
	}
	if err := checkNodeName(name); err != nil {
		return "", "", fmt.Errorf("%q: %w", redactSpec(spec), err)
	}
	return name, rawURL, nil
}

func redactSpec(spec string) string {
	_, u, ok := strings.Cut(spec, "=")
	if !ok {
		u = spec
	}
	return auth.Redact(spec, auth.URLSecrets(strings.TrimSpace(u))...)
}

// checkNodeName returns an error unless name is non-empty and made of letters, digits, '.', '-' and '_'.
func checkNodeName(name string) error {
	if name == "" {
		return fmt.Errorf("empty node name")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return fmt.Errorf("node name %q: use letters, digits, '.', '-' and '_' only", name)
		}
	}
	return nil
}

// NodeExporter samples one server node through its Prometheus node_exporter: CPU busy percent, load1, memory,
// and network and disk byte rates over the interval between its readings (snapshot.Node). Each node is its
// own source, so a node that is down has its own errors and outages and leaves the others' readings whole.
// Create it with NewNodeExporter.
type NodeExporter struct {
	name    string
	u       *url.URL
	client  *http.Client
	auth    auth.Config
	maxBody int64
	minCPU  float64
	now     func() time.Time

	prev *nodeCounters // the last committed reading; nil before the first and after a failed one
}

// nodeCounters is one scrape's cumulative counters, the base of the next reading's rates.
type nodeCounters struct {
	at       time.Time
	boot     *float64
	cpu      map[string]float64 // mode → seconds summed over CPUs
	netRecv  map[string]float64 // device → bytes
	netSent  map[string]float64
	diskRead map[string]float64
	diskWrit map[string]float64
}

// NewNodeExporter returns the sampler of one node; cfg.Name and cfg.URL are checked (an error names the
// field), nothing is fetched until the first Sample.
func NewNodeExporter(cfg NodeExporterConfig) (*NodeExporter, error) {
	if err := checkNodeName(cfg.Name); err != nil {
		return nil, fmt.Errorf("NodeExporterConfig.Name: %w", err)
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("NodeExporterConfig.URL %q: not an http(s) URL with a host", auth.Redact(cfg.URL, auth.URLSecrets(cfg.URL)...))
	}
	n := &NodeExporter{name: cfg.Name, u: u, client: cfg.HTTPClient, auth: cfg.Auth, maxBody: nodeMaxBody,
		minCPU: cfg.MinCPUSeconds, now: time.Now}
	if n.client == nil {
		n.client = &http.Client{}
	}
	if n.minCPU <= 0 {
		n.minCPU = minCPUSeconds
	}
	return n, nil
}

// Name returns "node:<name>" (NodeSourcePrefix and the node's name).
func (n *NodeExporter) Name() string { return NodeSourcePrefix + n.name }

// Node returns the node's name, the key of its figures in snapshot.Snapshot.NodeMetrics.
func (n *NodeExporter) Node() string { return n.name }

// Close closes the sampler's idle connections.
func (n *NodeExporter) Close() error { n.client.CloseIdleConnections(); return nil }

// Sample scrapes the node once. Reading.Nodes holds the node's figures under its name: all nil with Err set
// when the scrape fails; the rates and CPU percent are nil on the first reading, the one after a failure, and
// over an interval where a counter went down or the node rebooted (a reset is no rate). Its Commit makes this
// reading the base of the next.
func (n *NodeExporter) Sample(ctx context.Context) Reading {
	fams, at, err := n.scrape(ctx)
	if err != nil {
		return Reading{Nodes: map[string]snapshot.Node{n.name: {}},
			Err:    fmt.Errorf("node_exporter %s: %w", auth.Redact(n.u.Redacted()), err),
			Commit: func(*Reading) { n.prev = nil }}
	}
	cur := nodeCountersOf(fams, at)
	node := nodeGauges(fams)
	if p := n.prev; p != nil {
		n.rates(&node, p, cur)
	}
	return Reading{Nodes: map[string]snapshot.Node{n.name: node}, Commit: func(*Reading) { n.prev = cur }}
}

func (n *NodeExporter) scrape(ctx context.Context) (map[string]*dto.MetricFamily, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.u.String(), nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	n.auth.Apply(req.Header)
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, time.Time{}, err
	}
	at := n.now()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, at, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > n.maxBody {
		return nil, at, fmt.Errorf("body exceeds %d bytes (Content-Length %d)", n.maxBody, resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, n.maxBody+1))
	if err != nil {
		return nil, at, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > n.maxBody {
		return nil, at, fmt.Errorf("body exceeds %d bytes", n.maxBody)
	}
	fams, err := parseNode(body)
	return fams, at, err
}

// parseNode parses the families a node reading uses (nodeLines) out of a node_exporter body; a body with none
// of them (an HTML page, a vLLM /metrics) is an error.
func parseNode(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(nodeLines(body)))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	samples := 0
	for _, f := range fams {
		samples += len(f.GetMetric())
	}
	if samples == 0 {
		return nil, fmt.Errorf("no %s, %s, %s or any other node_* series a node reading uses: is this a node_exporter /metrics URL?",
			nodeCPUSeconds, nodeMemTotal, nodeLoad1)
	}
	return fams, nil
}

// nodeValue returns a sample's value whatever its type (sampleValue); false also for NaN or ±Inf.
func nodeValue(m *dto.Metric) (float64, bool) {
	v, ok := sampleValue(m)
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// sampleValue returns a gauge's, counter's or untyped sample's value; false for a summary or histogram.
func sampleValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func nodeLabel(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// nodeSingle returns the value of the family's first sample, nil when it has none.
func nodeSingle(fams map[string]*dto.MetricFamily, name string) *float64 {
	for _, m := range fams[name].GetMetric() {
		if v, ok := nodeValue(m); ok {
			return &v
		}
	}
	return nil
}

// nodeByLabel sums the family's samples by the value of the label l, keeping those keep accepts.
func nodeByLabel(fams map[string]*dto.MetricFamily, name, l string, keep func(string) bool) map[string]float64 {
	out := map[string]float64{}
	for _, m := range fams[name].GetMetric() {
		k := nodeLabel(m, l)
		if v, ok := nodeValue(m); ok && keep(k) {
			out[k] += v
		}
	}
	return out
}

// nodeGauges reads the figures that need no previous reading: load1 and memory (GiB, used = total −
// available, as for the host); nil where the series is absent.
func nodeGauges(fams map[string]*dto.MetricFamily) snapshot.Node {
	var out snapshot.Node
	out.Load1 = nodeSingle(fams, nodeLoad1)
	total, avail := nodeSingle(fams, nodeMemTotal), nodeSingle(fams, nodeMemAvail)
	if total != nil {
		out.MemoryTotalGB = snapshot.F(*total / gib)
	}
	if avail != nil {
		out.MemoryAvailableGB = snapshot.F(*avail / gib)
	}
	if total != nil && avail != nil {
		out.MemoryGB = snapshot.F((*total - *avail) / gib)
	}
	return out
}

func nodeCountersOf(fams map[string]*dto.MetricFamily, at time.Time) *nodeCounters {
	all := func(string) bool { return true }
	c := &nodeCounters{
		at:       at,
		boot:     nodeSingle(fams, nodeBootTime),
		cpu:      nodeByLabel(fams, nodeCPUSeconds, "mode", all),
		netRecv:  nodeByLabel(fams, nodeNetRecv, "device", physicalNIC),
		netSent:  nodeByLabel(fams, nodeNetSent, "device", physicalNIC),
		diskRead: nodeByLabel(fams, nodeDiskRead, "device", all),
		diskWrit: nodeByLabel(fams, nodeDiskWritten, "device", all),
	}
	c.diskRead, c.diskWrit = nodeWholeDisks(c.diskRead), nodeWholeDisks(c.diskWrit)
	return c
}

// nodeWholeDisks keeps the devices wholeDisks (the host sampler) counts: physical whole disks, no partition
// of another listed device, no loop, ram, zram, device-mapper or md device.
func nodeWholeDisks(m map[string]float64) map[string]float64 {
	names := make(map[string]disk.IOCountersStat, len(m))
	for d := range m {
		names[d] = disk.IOCountersStat{}
	}
	out := make(map[string]float64, len(m))
	for d, v := range m {
		if virtualDisk(d) {
			continue
		}
		partition := false
		for other := range names {
			if other != d && isPartition(d, other) {
				partition = true
				break
			}
		}
		if !partition {
			out[d] = v
		}
	}
	return out
}

// virtualNICPrefixes start the names of interfaces whose traffic is also counted on a physical one, or never
// leaves the node: loopback, container and VM links and bridges, overlay tunnels, bonds and teams (their
// members are counted).
var virtualNICPrefixes = []string{"lo", "veth", "docker", "br-", "virbr", "vnet", "cni", "flannel", "cali",
	"cilium", "lxc", "weave", "vxlan", "genev", "tun", "tap", "kube-", "nodelocaldns", "ovs-", "bond", "team", "ifb", "dummy", "wg", "sit", "gre", "ipip", "ip6", "erspan", "nlmon"}

// physicalNIC reports whether the interface named dev counts in a node's network rates: not one of
// virtualNICPrefixes, and not a VLAN sub-interface ("eth0.100", whose traffic eth0 carries).
func physicalNIC(dev string) bool {
	if dev == "" || strings.ContainsAny(dev, ".@") {
		return false
	}
	for _, p := range virtualNICPrefixes {
		if strings.HasPrefix(dev, p) {
			return false
		}
	}
	return true
}

// rates fills the figures over the interval (p.at, c.at]: none when the node rebooted in between (its boot
// time changed); each counter sum from the devices present in both readings, nil when one of them went down.
func (n *NodeExporter) rates(out *snapshot.Node, p, c *nodeCounters) {
	dt := c.at.Sub(p.at).Seconds()
	if dt <= 0 || (p.boot != nil && c.boot != nil && *p.boot != *c.boot) {
		return
	}
	out.RateIntervalS = snapshot.F(dt)
	out.CPUPercent = n.cpuPercent(p.cpu, c.cpu)
	out.NetworkRecvBytesPerSecond = nodeCounterRate(p.netRecv, c.netRecv, dt)
	out.NetworkSentBytesPerSecond = nodeCounterRate(p.netSent, c.netSent, dt)
	out.DiskReadBytesPerSecond = nodeCounterRate(p.diskRead, c.diskRead, dt)
	out.DiskWriteBytesPerSecond = nodeCounterRate(p.diskWrit, c.diskWrit, dt)
}

// cpuPercent is 100 × (1 − (idle + iowait) / all modes) of the per-mode increases, as cpuDelta counts them for
// the host (each mode's step back clamped at 0), rounded to 1e-6 and clamped to 0..100. Nil when there is no
// CPU series in either reading, when the modes' total went down (a reset), or under minCPU seconds of CPU time.
func (n *NodeExporter) cpuPercent(p, c map[string]float64) *float64 {
	if len(p) == 0 || len(c) == 0 {
		return nil
	}
	var pt, ct, idle, total float64
	for mode, v := range c {
		pt, ct = pt+p[mode], ct+v
		if _, ok := p[mode]; !ok {
			continue
		}
		d := max(v-p[mode], 0)
		total += d
		if mode == "idle" || mode == "iowait" {
			idle += d
		}
	}
	if ct < pt || total < n.minCPU {
		return nil
	}
	pct := math.Round((total-idle)/total*100*1e6) / 1e6
	return snapshot.F(min(max(pct, 0), 100))
}

// nodeCounterRate is the summed increase over the devices in both readings, per second; nil when there are none
// or when one device's counter went down (a reset).
func nodeCounterRate(p, c map[string]float64, dt float64) *float64 {
	var sum float64
	seen := false
	for dev, v := range c {
		pv, ok := p[dev]
		if !ok {
			continue
		}
		if v < pv {
			return nil
		}
		sum += v - pv
		seen = true
	}
	if !seen {
		return nil
	}
	return snapshot.F(sum / dt)
}

// nodeLines returns the lines of a text exposition body that belong to the families a node reading uses
// (nodeWanted): their samples and their # HELP and # TYPE lines, so that the parser reads ~50 lines of a
// node_exporter's thousands. A malformed line of another family is thus not an error.
func nodeLines(body []byte) []byte {
	out := make([]byte, 0, 8<<10)
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		name := line
		if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok {
			_, name, _ = bytes.Cut(rest, []byte{' '}) // "# TYPE name type", "# HELP name text"
		}
		if i := bytes.IndexAny(name, "{ \t"); i >= 0 {
			name = name[:i]
		}
		if nodeWanted[string(name)] {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}
