package summary

import (
	"time"
	"unicode/utf8"

	"github.com/vmtest/vmtest/recorder"
	"github.com/vmtest/vmtest/snapshot"
)

// Bounds on what a SourceStatus keeps, whatever a source keeps failing with.
const (
	// MaxSourceErrors is the number of classes of error messages (recorder.ErrorClass) a SourceStatus counts
	// apart; later ones are counted together under OtherErrors.
	MaxSourceErrors = 16
	// MaxOutages is the number of outages a SourceStatus lists: the first MaxOutages−1 and the latest; the
	// ones in between are counted in OutagesOmitted.
	MaxOutages = 64
	// maxErrorBytes bounds an error message as a SourceStatus keeps it.
	maxErrorBytes = 512
	// OtherErrors is the message under which errors past MaxSourceErrors classes are counted.
	OtherErrors = recorder.OtherErrors
)

// ErrorCount is one class of error messages of a source (messages that differ only in their digits,
// recorder.ErrorClass) and how many readings failed with it.
type ErrorCount struct {
	// Message is the first error of the class, cut at 512 bytes.
	Message string `json:"message"`
	// Count is the number of failed readings with this message.
	Count int `json:"count"`
	// First and Last are the times of the first and last reading that failed with it.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Outage is a run of consecutive failed readings of one source.
type Outage struct {
	// Start and End are the times of the first and last failed reading of the run; End equals Start for an
	// outage of one reading. The source was last read successfully before Start and next after End.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Failed is the number of failed readings in the outage.
	Failed int `json:"failed"`
	// Reason is the error most of them failed with (the first such when tied).
	Reason string `json:"reason"`
	// Ongoing is true when the source had not come back by the last reading.
	Ongoing bool `json:"ongoing,omitempty"`

	reasons []ErrorCount // this outage's messages, bounded as SourceStatus.Errors
}

// Record counts one reading of the source taken at t: err is its error message, "" for a successful reading.
// It keeps Readings, Failed and LastError as they always were, and the counts per message, the dominant one,
// the first and last failure, the outages and the covered fraction, each bounded (MaxSourceErrors, MaxOutages,
// messages cut at 512 bytes).
func (s *SourceStatus) Record(t time.Time, err string) {
	s.Readings++
	if err == "" {
		if n := len(s.Outages); n > 0 {
			s.Outages[n-1].Ongoing = false
		}
		s.cover()
		return
	}
	err = cutMessage(err)
	s.Failed++
	s.LastError = err
	if s.FirstFailure == nil {
		s.FirstFailure = &t
	}
	s.LastFailure = &t
	s.Errors = countError(s.Errors, err, t)
	s.DominantError = dominant(s.Errors)
	if n := len(s.Outages); n > 0 && s.Outages[n-1].Ongoing {
		o := &s.Outages[n-1]
		o.End, o.Failed = t, o.Failed+1
		o.reasons = countError(o.reasons, err, t)
		o.Reason = dominant(o.reasons)
	} else {
		o := Outage{Start: t, End: t, Failed: 1, Reason: err, Ongoing: true, reasons: countError(nil, err, t)}
		if n >= MaxOutages {
			s.Outages[n-1] = o
			s.OutagesOmitted++
		} else {
			s.Outages = append(s.Outages, o)
		}
	}
	s.cover()
}

// cover sets CoveredFraction from Readings and Failed.
func (s *SourceStatus) cover() {
	s.CoveredFraction = snapshot.F(float64(s.Readings-s.Failed) / float64(s.Readings))
}

// Clone returns a copy of s that shares nothing with it, for a summary taken while s is still recorded into.
func (s SourceStatus) Clone() SourceStatus {
	c := s
	c.Errors = append([]ErrorCount(nil), s.Errors...)
	c.Outages = append([]Outage(nil), s.Outages...)
	for i := range c.Outages {
		c.Outages[i].reasons = append([]ErrorCount(nil), c.Outages[i].reasons...)
	}
	for _, p := range []**float64{&c.CoveredFraction} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	for _, p := range []**time.Time{&c.FirstFailure, &c.LastFailure} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return c
}

// countError counts err at t in list, by class (recorder.ErrorClass), apart while list has fewer than
// MaxSourceErrors classes, else under OtherErrors.
func countError(list []ErrorCount, err string, t time.Time) []ErrorCount {
	class := recorder.ErrorClass(err)
	for i := range list {
		if recorder.ErrorClass(list[i].Message) == class {
			list[i].Count++
			list[i].Last = t
			return list
		}
	}
	if len(list) >= MaxSourceErrors-1 && err != OtherErrors {
		return countError(list, OtherErrors, t)
	}
	return append(list, ErrorCount{Message: err, Count: 1, First: t, Last: t})
}

// dominant returns the message counted most in list, the first such when tied.
func dominant(list []ErrorCount) string {
	best := -1
	for i := range list {
		if best < 0 || list[i].Count > list[best].Count {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return list[best].Message
}

// cutMessage returns msg cut at maxErrorBytes bytes, at a rune boundary, marked "…" when cut.
func cutMessage(msg string) string {
	if len(msg) <= maxErrorBytes {
		return msg
	}
	n := maxErrorBytes
	for n > 0 && !utf8.RuneStart(msg[n]) {
		n--
	}
	return msg[:n] + "…"
}
