// Command vllmsim serves the vmtest vLLM simulator over HTTP, for trying
// vmtest, a load driver or a dashboard without a GPU:
//
//	go build -o vllmsim ./cmd/vllmsim && ./vllmsim -port 8000 -ttft 50ms -tpot 10ms
//
// By default it answers like a small model on one GPU (TTFT 40 ms + 0.2 ms per prompt token, 8 ms per
// output token); -ttft 0 -ttft-per-prompt-token 0 -tpot 0 makes it as fast as the machine allows. (Under
// `go run`, a signal sent to the go command does not reach the simulator: build it, or stop it with Ctrl-C.)
//
// It serves GET /health, GET /v1/models, POST /v1/completions,
// POST /v1/chat/completions and GET /metrics as vLLM's OpenAI-compatible
// server does (see package github.com/vmtest/vmtest/vllmsim). Every flag sets
// the vllmsim.Config field of the same meaning; run with -h for the list.
// It logs the base URL to stderr once listening and shuts down gracefully on
// SIGINT or SIGTERM (in-flight requests get -shutdown-timeout to finish).
// Exit status: 0 after a clean shutdown or -h, 2 for a bad flag, 1 otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmtest/vmtest/vllmsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run parses args, serves until ctx ends, then shuts down. ready, if not
// nil, is called with the server once it listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(*vllmsim.Server)) error {
	fs := flag.NewFlagSet("vllmsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg vllmsim.Config
	host := fs.String("host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
	port := fs.Int("port", 8000, "TCP port to listen on (0 picks a free one)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 5*time.Second, "how long in-flight requests may run on after SIGINT/SIGTERM")
	fs.StringVar(&cfg.Model, "model", vllmsim.DefaultModel, "served model name (model_name label, /v1/models id)")
	fs.Func("lora-modules", "further model names served as LoRA adapters of -model, comma-separated (as vLLM's --lora-modules)", func(v string) error {
		cfg.LoRAModules = strings.Split(v, ",")
		return nil
	})
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed for ids, text, jitter and probabilistic faults")
	// The command's defaults look like a small model on one GPU, so that a demo against it shows real latencies;
	// pass 0 for a server as fast as the machine allows.
	fs.DurationVar(&cfg.TTFTBase, "ttft", 40*time.Millisecond, "fixed time to first token, after queue wait; 0 for none")
	fs.DurationVar(&cfg.TTFTPerPromptToken, "ttft-per-prompt-token", 200*time.Microsecond, "prefill time added per prompt token; 0 for none")
	fs.DurationVar(&cfg.TimePerOutputToken, "tpot", 8*time.Millisecond, "time per output token after the first; 0 for none")
	fs.Float64Var(&cfg.Jitter, "jitter", 0, "fractional jitter on TTFT and each token interval, in [0,1)")
	fs.IntVar(&cfg.MaxNumSeqs, "max-num-seqs", vllmsim.DefaultMaxNumSeqs, "most requests running at once; the rest wait in FIFO order")
	fs.IntVar(&cfg.KVCacheTokens, "kv-cache-tokens", vllmsim.DefaultKVCacheTokens, "KV-cache capacity in tokens")
	fs.IntVar(&cfg.MaxModelLen, "max-model-len", vllmsim.DefaultMaxModelLen, "context window in tokens (prompt + max_tokens)")
	fs.IntVar(&cfg.DefaultMaxTokens, "default-max-tokens", vllmsim.DefaultMaxTokens, "output tokens when a request gives no max_tokens")
	fs.IntVar(&cfg.ReasoningTokens, "reasoning-tokens", 0, "first N chat output tokens go to the reasoning field")
	fs.IntVar(&cfg.TokensPerChunk, "tokens-per-chunk", 0, "send a stream's tokens in chunks of up to N (the first alone), as speculative decoding does")
	fs.StringVar(&cfg.ReasoningField, "reasoning-field", vllmsim.DefaultReasoningField, `reasoning field name: "reasoning_content" or "reasoning"`)
	fs.IntVar(&cfg.EOSAfterTokens, "eos-after-tokens", 0, "requests without ignore_eos stop after this many tokens (or min_tokens) with \"stop\"; 0: never")
	fs.BoolVar(&cfg.NoPrefixCaching, "no-enable-prefix-caching", false, "turn the simulated prefix cache off")
	fs.BoolVar(&cfg.EarlyRoleChunk, "early-role-chunk", false, "fault: send the chat role chunk at admission, before the first token")
	fs.IntVar(&cfg.FaultAfterTokens, "fault-after-tokens", 0, "tokens sent before a stream error or truncation (0: half of max_tokens)")
	faultFlag := func(name, what string, f *vllmsim.Fault) {
		fs.Func(name, what+`: "p=0.05", "every=10" or both, comma-separated`, func(s string) error {
			v, err := vllmsim.ParseFault(s)
			if err == nil {
				*f = v
			}
			return err
		})
	}
	fs.StringVar(&cfg.APIKey, "api-key", "", "require this bearer token on /v1 routes, as vLLM's --api-key (default $VLLM_API_KEY; never printed)")
	var metricsAuth string
	fs.StringVar(&metricsAuth, "metrics-basic-auth", "", "require basic auth USER:PASSWORD on /metrics (never printed)")
	faultFlag("fault-429", "requests rejected with HTTP 429", &cfg.Reject429)
	faultFlag("fault-500", "requests failed with HTTP 500", &cfg.Error500)
	faultFlag("fault-stream-error", "streams that end with an error event", &cfg.StreamError)
	faultFlag("fault-truncate", "streams cut without finish_reason or [DONE]", &cfg.Truncate)
	faultFlag("fault-stall", "streams silent after their first bytes, before any token, until the client leaves", &cfg.Stall)
	fs.IntVar(&cfg.StreamErrorBytes, "stream-error-bytes", 0, "pad each injected stream error's message to this many bytes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vllmsim: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "vllmsim: -port must be in 0..65535, got %d\n", *port)
		return errUsage
	}
	cfg.Addr = net.JoinHostPort(*host, strconv.Itoa(*port))
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv("VLLM_API_KEY")
	}
	if metricsAuth != "" {
		var ok bool
		if cfg.MetricsUsername, cfg.MetricsPassword, ok = strings.Cut(metricsAuth, ":"); !ok || cfg.MetricsUsername == "" {
			fmt.Fprintln(stderr, "vllmsim: -metrics-basic-auth: want USER:PASSWORD (the value is not shown)")
			return errUsage
		}
	}

	logger := log.New(stderr, "", log.LstdFlags)
	s, err := vllmsim.NewServer(cfg)
	if err != nil {
		return err
	}
	c := s.Config()
	logger.Printf("vllmsim: serving model %q at %s (OpenAI API %s/v1, metrics %s/metrics)", c.Model, s.URL, s.URL, s.URL)
	logger.Printf("vllmsim: ttft=%v+%v/prompt-token tpot=%v jitter=%g max-num-seqs=%d kv-cache-tokens=%d seed=%d",
		c.TTFTBase, c.TTFTPerPromptToken, c.TimePerOutputToken, c.Jitter, c.MaxNumSeqs, c.KVCacheTokens, c.Seed)
	if c.APIKey != "" || c.MetricsUsername != "" {
		logger.Printf("vllmsim: credentials required: API key on /v1 %v, basic auth on /metrics %v", c.APIKey != "", c.MetricsUsername != "")
	}
	if ready != nil {
		ready(s)
	}
	<-ctx.Done()
	logger.Printf("vllmsim: shutting down (in-flight requests get %v)", *shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		logger.Printf("vllmsim: shutdown timed out; remaining requests were cut")
	}
	return nil
}
