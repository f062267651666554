package recorder

import "strings"

// MaxErrorClasses is the number of error classes (ErrorClass) the recorder counts apart; requests failing
// with later classes are counted under OtherErrors.
const MaxErrorClasses = 16

// OtherErrors is the message under which errors past MaxErrorClasses classes are counted.
const OtherErrors = "(other errors)"

// ErrorClass returns msg with every run of digits replaced by "#", so that messages differing only in a port,
// an address, a size or a count ("read tcp 127.0.0.1:53412->…: connection reset by peer") are counted as one.
func ErrorClass(msg string) string {
	var b strings.Builder
	b.Grow(len(msg))
	digits := false
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteByte(c)
	}
	return b.String()
}

// errorTally counts messages by ErrorClass, keeping the first message of each class, at most
// MaxErrorClasses classes.
type errorTally struct {
	classes []string
	first   []string
	counts  []int
}

// add counts msg.
func (t *errorTally) add(msg string) {
	class := ErrorClass(msg)
	for i, c := range t.classes {
		if c == class {
			t.counts[i]++
			return
		}
	}
	if len(t.classes) >= MaxErrorClasses-1 && class != OtherErrors {
		msg, class = OtherErrors, OtherErrors
		for i, c := range t.classes {
			if c == class {
				t.counts[i]++
				return
			}
		}
	}
	t.classes, t.first, t.counts = append(t.classes, class), append(t.first, msg), append(t.counts, 1)
}

// dominant returns the first message of the class counted most (the first such when tied) and its count.
func (t *errorTally) dominant() (string, int) {
	best := -1
	for i, n := range t.counts {
		if best < 0 || n > t.counts[best] {
			best = i
		}
	}
	if best < 0 {
		return "", 0
	}
	return t.first[best], t.counts[best]
}
