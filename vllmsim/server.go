package vllmsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is a running simulated vLLM OpenAI-compatible server. Its methods
// are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://host:port" with no trailing slash; the
	// OpenAI API is under URL+"/v1".
	URL string

	cfg          Config
	quotedModel  []byte
	reasoningKey []byte // `"reasoning_content":` or `"reasoning":`
	created      int64  // unix seconds at start: /v1/models "created"
	eng          *engine
	met          *metrics
	lora         *loraTracker // nil without LoRAModules
	mux          *http.ServeMux
	handler      http.Handler // mux behind the credentials Config requires
	unauthorized atomic.Int64
	reqSeq       atomic.Uint64

	srv    *http.Server
	ln     net.Listener
	ctx    context.Context // cancelled by Close: ends in-flight generations
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup
	done   chan struct{} // closed when Serve returns
}

// TB is the part of *testing.T and *testing.B that New uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts a simulator for a test on 127.0.0.1 at a random port (or
// cfg.Addr), like httptest.NewServer, and closes it in tb.Cleanup. An
// invalid cfg calls tb.Fatalf with an error naming the field. Outside a
// test, use NewServer.
func New(tb TB, cfg Config) *Server {
	tb.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		tb.Fatalf("%v", err)
		return nil
	}
	tb.Cleanup(s.Close)
	return s
}

// NewServer starts a simulator listening on cfg.Addr (default
// "127.0.0.1:0") and serving in a background goroutine until Close or
// Shutdown. It returns an error naming the field for an invalid cfg, or
// the listen error.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := newServer(cfg)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("vllmsim: listen on Config.Addr %q: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{
		Handler:           s.handler,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

func newServer(cfg Config) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	q, _ := json.Marshal(cfg.Model)
	s := &Server{
		cfg:          cfg,
		quotedModel:  q,
		reasoningKey: []byte(`"` + cfg.ReasoningField + `":`),
		created:      time.Now().Unix(),
		eng:          &engine{maxSeqs: cfg.MaxNumSeqs, kvCap: int64(cfg.KVCacheTokens)},
		ctx:          ctx,
		cancel:       cancel,
		done:         make(chan struct{}),
	}
	if !cfg.NoPrefixCaching {
		s.eng.cache = newPrefixCache(cfg.KVCacheTokens)
	}
	s.met = newMetrics(&s.cfg, s.eng)
	if s.lora = newLoRATracker(&s.cfg); s.lora != nil {
		s.met.reg.MustRegister(s.lora)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /v1/models", s.serveModels)
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.serveGenerate(w, r, true) })
	mux.HandleFunc("POST /tokenize", s.serveTokenize)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.met.reg, promhttp.HandlerOpts{}))
	s.mux = mux
	s.handler = s.guard(mux)
	return s
}

// Handler returns the simulator's routes: GET /health, GET /v1/models,
// POST /v1/completions, POST /v1/chat/completions, POST /tokenize and GET /metrics. It lets
// a caller mount the simulator in its own server (sharing its engine,
// queue and metrics); generations served that way end with their request's
// context, not with Close.
func (s *Server) Handler() http.Handler { return s.handler }

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Close stops the server at once: it refuses new requests, ends in-flight
// generations (their streams stop without [DONE]; they count as "abort"),
// closes every connection, and waits up to 5 s for handlers to return.
// Calling it again does nothing.
func (s *Server) Close() {
	if !s.markClosed() {
		return
	}
	s.cancel()
	if s.srv != nil {
		_ = s.srv.Close()
		<-s.done
	}
	s.waitHandlers(5 * time.Second)
}

// Shutdown stops the server gracefully, as http.Server.Shutdown: it stops
// accepting, lets in-flight requests finish until ctx ends, then ends the
// rest as Close does. It returns ctx.Err() if ctx ended first.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		s.Close()
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.Close()
		return err
	}
	s.markClosed()
	s.cancel()
	<-s.done
	return nil
}

func (s *Server) markClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	return true
}

func (s *Server) waitHandlers(limit time.Duration) {
	ch := make(chan struct{})
	go func() { s.active.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(limit):
	}
}

// enter registers an in-flight handler; it fails once the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

func (s *Server) serveModels(w http.ResponseWriter, _ *http.Request) {
	type permission struct {
		ID                 string  `json:"id"`
		Object             string  `json:"object"`
		Created            int64   `json:"created"`
		AllowCreateEngine  bool    `json:"allow_create_engine"`
		AllowSampling      bool    `json:"allow_sampling"`
		AllowLogprobs      bool    `json:"allow_logprobs"`
		AllowSearchIndices bool    `json:"allow_search_indices"`
		AllowView          bool    `json:"allow_view"`
		AllowFineTuning    bool    `json:"allow_fine_tuning"`
		Organization       string  `json:"organization"`
		Group              *string `json:"group"`
		IsBlocking         bool    `json:"is_blocking"`
	}
	type model struct {
		ID          string       `json:"id"`
		Object      string       `json:"object"`
		Created     int64        `json:"created"`
		OwnedBy     string       `json:"owned_by"`
		Root        string       `json:"root"`
		Parent      *string      `json:"parent"`
		MaxModelLen int          `json:"max_model_len"`
		Permission  []permission `json:"permission"`
	}
	body := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", nil}
	perm := []permission{{ID: "modelperm-vllmsim", Object: "model_permission", Created: s.created,
		AllowSampling: true, AllowLogprobs: true, AllowView: true, Organization: "*"}}
	entry := func(id string, parent *string) model {
		return model{ID: id, Object: "model", Created: s.created, OwnedBy: "vllm", Root: id, Parent: parent,
			MaxModelLen: s.cfg.MaxModelLen, Permission: perm}
	}
	body.Data = append(body.Data, entry(s.cfg.Model, nil))
	for _, m := range s.cfg.LoRAModules {
		body.Data = append(body.Data, entry(m, &s.cfg.Model))
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorBody is the OpenAI-style error object vLLM returns.
type errorBody struct {
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    int     `json:"code"`
}

func errorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequestError"
	case http.StatusNotFound:
		return "NotFoundError"
	case http.StatusTooManyRequests:
		return "TooManyRequestsError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableError"
	default:
		return "InternalServerError"
	}
}

func writeError(w http.ResponseWriter, status int, param, msg string) {
	e := errorBody{Error: errorInfo{Message: msg, Type: errorType(status), Code: status}}
	if param != "" {
		e.Error.Param = &param
	}
	writeJSON(w, status, e)
}

var errClosed = errors.New("vllmsim: server closed")
