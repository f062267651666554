// Command promserve serves a synthetic vLLM /metrics body of -series sample lines (promgen.Body) on -addr,
// one tick further every second (a busy server: every vLLM value moves), for scripted scrape runs
// (scripts/large-scrape.sh). The next body is rendered in the background while the current one is served.
package main

import (
	"flag"
	"log"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/vmtest/vmtest/internal/promgen"
)

func main() {
	series := flag.Int("series", 75_000, "sample lines per body")
	addr := flag.String("addr", "127.0.0.1:18190", "listen address")
	flag.Parse()
	var body atomic.Pointer[[]byte]
	b := promgen.Body(*series, 1, 0)
	body.Store(&b)
	go func() {
		for tick := 2; ; tick++ {
			next := promgen.Body(*series, tick, 0)
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
			body.Store(&next)
		}
	}()
	http.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(*body.Load())
	})
	log.Printf("serving %d series (%d bytes) on http://%s/metrics", *series, len(b), *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
