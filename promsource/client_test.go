package promsource_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/promsource"
)

// fakeAPI serves /api/v1/query for range selectors over fixed samples, as Prometheus 2 does: the samples with a
// timestamp in [time − range, time], of the series whose instance label equals an `instance="..."` matcher
// when the query has one (other matchers are ignored). It answers 401 without the bearer token.
type fakeAPI struct {
	token   string
	series  model.Matrix
	queries atomic.Int32
}

var (
	rangeRE    = regexp.MustCompile(`\[(\d+)ms\]$`)
	instanceRE = regexp.MustCompile(`instance="([^"]+)"`) // the one matcher the fake applies
)

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, `{"status":"error","errorType":"unauthorized","error":"no token"}`, http.StatusUnauthorized)
		return
	}
	_ = r.ParseForm()
	f.queries.Add(1)
	sub := rangeRE.FindStringSubmatch(r.Form.Get("query"))
	at, err := strconv.ParseFloat(r.Form.Get("time"), 64)
	if sub == nil || err != nil {
		http.Error(w, `{"status":"error","errorType":"bad_data","error":"bad query"}`, http.StatusBadRequest)
		return
	}
	ms, _ := strconv.ParseInt(sub[1], 10, 64)
	hi := model.Time(int64(at * 1000))
	lo := hi - model.Time(ms)
	inst := instanceRE.FindStringSubmatch(r.Form.Get("query"))
	var out model.Matrix
	for _, s := range f.series {
		if inst != nil && string(s.Metric["instance"]) != inst[1] {
			continue
		}
		c := &model.SampleStream{Metric: s.Metric}
		for _, p := range s.Values {
			if p.Timestamp >= lo && p.Timestamp <= hi {
				c.Values = append(c.Values, p)
			}
		}
		if len(c.Values) > 0 {
			out = append(out, c)
		}
	}
	body, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": out}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// counterSeries is one counter series sampled every second from t0 (ms), value i at sample i.
func counterSeries(inst string, t0 model.Time, n int) *model.SampleStream {
	s := &model.SampleStream{Metric: model.Metric{"__name__": "vllm:generation_tokens_total", "job": "vllm", "instance": model.LabelValue(inst)}}
	for i := range n {
		s.Values = append(s.Values, model.SamplePair{Timestamp: t0 + model.Time(1000*i), Value: model.SampleValue(10 * i)})
	}
	return s
}

func TestSamplesChunksAuthAndWindow(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	f := &fakeAPI{token: "s3cr3t-token", series: model.Matrix{counterSeries("a:1", t0, 30), counterSeries("b:1", t0+250, 30)}}
	srv := httptest.NewServer(f)
	defer srv.Close()

	c, err := promsource.New(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: f.token}, Chunk: 7 * time.Second})
	require.NoError(t, err)
	from, to := t0.Add(2*time.Second).Time(), t0.Add(25*time.Second).Time()
	m, err := c.Samples(context.Background(), from, to)
	require.NoError(t, err)
	require.EqualValues(t, 4, f.queries.Load(), "23 s in chunks of 7 s")
	require.Len(t, m, 2)
	for _, s := range m {
		var ts []int64
		for _, p := range s.Values {
			ts = append(ts, int64(p.Timestamp-t0))
		}
		// (from, to]: a's samples at 3..25 s, b's at 2.25..24.25 s; chunk edges appear once.
		off := int64(0)
		if s.Metric["instance"] == "b:1" {
			off = -750
		}
		var want []int64
		for i := 3; i <= 25; i++ {
			if x := int64(1000*i) + off; x > 2000 && x <= 25000 {
				want = append(want, x)
			}
		}
		require.Equal(t, want, ts, "%s", s.Metric)
	}

	res, err := c.Read(context.Background(), from, to)
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.Equal(t, `{instance="a:1", job="vllm"}`, res[0].Name)
	require.Equal(t, 220.0, *res[0].Stats.GenerationTokens, "a: 30 at 3 s → 250 at 25 s")
	require.Equal(t, 220.0, *res[1].Stats.GenerationTokens, "b: 20 at 2.25 s → 240 at 24.25 s")
}

func TestSamplesErrors(t *testing.T) {
	t0 := model.Time(1_700_000_000_000)
	f := &fakeAPI{token: "s3cr3t-token", series: model.Matrix{counterSeries("a:1", t0, 30)}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	from, to := t0.Time(), t0.Add(20*time.Second).Time()

	c, err := promsource.New(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: "wrong-token"}})
	require.NoError(t, err)
	_, err = c.Samples(context.Background(), from, to)
	require.ErrorContains(t, err, "query {__name__=~\"vllm:.*|process_start_time_seconds\"}[20000ms]")
	require.ErrorContains(t, err, "401")
	require.NotContains(t, err.Error(), "wrong-token")

	c, err = promsource.New(promsource.Config{URL: srv.URL, Auth: auth.Config{BearerToken: f.token}, MaxBodyBytes: 512})
	require.NoError(t, err)
	_, err = c.Samples(context.Background(), from, to)
	require.ErrorContains(t, err, "response body over the limit (promsource.Config.MaxBodyBytes)")
	require.NotContains(t, err.Error(), f.token)

	_, err = c.Samples(context.Background(), to, to)
	require.ErrorContains(t, err, "empty window")
}

func TestBodyCapIsExact(t *testing.T) {
	const body = `{"status":"success","data":{"resultType":"matrix","result":[]}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	from, to := time.Unix(1_700_000_000, 0), time.Unix(1_700_000_060, 0)
	for _, tc := range []struct {
		max int64
		ok  bool
	}{{int64(len(body)), true}, {int64(len(body)) - 1, false}} {
		c, err := promsource.New(promsource.Config{URL: srv.URL, MaxBodyBytes: tc.max})
		require.NoError(t, err)
		m, err := c.Samples(context.Background(), from, to)
		if tc.ok {
			require.NoError(t, err)
			require.Empty(t, m)
		} else {
			require.ErrorContains(t, err, "response body over the limit")
		}
	}
}
