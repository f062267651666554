package vllmsim

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// loraTracker counts each LoRA adapter's waiting and running requests for vllm:lora_requests_info. A nil
// tracker (no LoRAModules) counts nothing.
type loraTracker struct {
	maxLoRA int
	mu      sync.Mutex
	waiting map[string]int
	running map[string]int
	updated time.Time
}

func newLoRATracker(cfg *Config) *loraTracker {
	if len(cfg.LoRAModules) == 0 {
		return nil
	}
	return &loraTracker{maxLoRA: len(cfg.LoRAModules), waiting: map[string]int{}, running: map[string]int{}, updated: time.Now()}
}

// move takes one request of adapter out of from and into to (either nil for none): one step of its life.
func (l *loraTracker) move(adapter string, from, to map[string]int) {
	if l == nil || adapter == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if from != nil {
		if from[adapter]--; from[adapter] <= 0 {
			delete(from, adapter)
		}
	}
	if to != nil {
		to[adapter]++
	}
	l.updated = time.Now()
}

// wait, gaveUp, run and done follow a request for adapter ("" for the base model: not counted) from its
// arrival through admission to its end.
func (l *loraTracker) wait(adapter string) {
	if l != nil {
		l.move(adapter, nil, l.waiting)
	}
}

func (l *loraTracker) gaveUp(adapter string) {
	if l != nil {
		l.move(adapter, l.waiting, nil)
	}
}

func (l *loraTracker) run(adapter string) {
	if l != nil {
		l.move(adapter, l.waiting, l.running)
	}
}

func (l *loraTracker) done(adapter string) {
	if l != nil {
		l.move(adapter, l.running, nil)
	}
}

var loraInfoDesc = prometheus.NewDesc("vllm:lora_requests_info", "Running stats on lora requests.",
	[]string{"max_lora", "waiting_lora_adapters", "running_lora_adapters"}, nil)

// Describe and Collect make l the collector of vllm:lora_requests_info, as vLLM V1 exports it: one series
// whose labels name the adapters with waiting and running requests (comma-separated, sorted here) and
// whose value is the Unix time of the last change.
func (l *loraTracker) Describe(ch chan<- *prometheus.Desc) { ch <- loraInfoDesc }

func (l *loraTracker) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	waiting, running, at := names(l.waiting), names(l.running), l.updated
	l.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(loraInfoDesc, prometheus.GaugeValue, float64(at.UnixNano())/1e9,
		strconv.Itoa(l.maxLoRA), waiting, running)
}

// names lists m's keys, sorted and comma-separated.
func names(m map[string]int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ",")
}
