package recorder

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// 5 connection resets from different client ports, then one 500 last: the summary's last error is the 500,
// its dominant error the resets' class, shown by the first message, counted 5.
func TestDominantRequestError(t *testing.T) {
	r := New(time.Now(), Config{})
	t0 := time.Now()
	for i := range 5 {
		r.RecordRequest(Request{Start: t0, Err: fmt.Errorf("read tcp 127.0.0.1:%d->10.0.0.2:8000: read: connection reset by peer", 40100+i)})
	}
	r.RecordRequest(Request{Start: t0, HTTPStatus: 500, Err: errors.New("HTTP 500: internal error")})
	r.RecordRequest(Request{Start: t0, FirstToken: t0.Add(time.Millisecond), End: t0.Add(2 * time.Millisecond), OutputTokens: 2})
	s := r.Summarize()
	assert.Equal(t, "HTTP 500: internal error", s.LastError)
	assert.Equal(t, "read tcp 127.0.0.1:40100->10.0.0.2:8000: read: connection reset by peer", s.DominantError)
	assert.Equal(t, 5, s.DominantErrorCount)

	assert.Equal(t, "HTTP #: status #", ErrorClass("HTTP 503: status 503"))
	assert.Equal(t, "", New(t0, Config{}).Summarize().DominantError, "no failure, no dominant error")
}

// Past MaxErrorClasses classes, the rest are one: bounded whatever the messages.
func TestErrorTallyBounded(t *testing.T) {
	var e errorTally
	for i := range 100 {
		e.add(fmt.Sprintf("error %c", 'A'+rune(i%50)))
	}
	assert.Len(t, e.classes, MaxErrorClasses)
	msg, n := e.dominant()
	assert.Equal(t, OtherErrors, msg)
	assert.Equal(t, 100-2*(MaxErrorClasses-1), n, "two of each of the first 15 classes; the rest are other")
}
