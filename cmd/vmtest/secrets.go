package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vmtest/vmtest/auth"
	"github.com/vmtest/vmtest/vmtest"
)

// headerList is a repeatable "Name: value" flag whose values are secrets: String never shows them, and Set
// never fails (flag would print the value in its error); config checks them after parsing.
type headerList []string

func (h *headerList) repeatable() {}

func (h *headerList) String() string {
	if h == nil || len(*h) == 0 {
		return ""
	}
	return fmt.Sprintf("(%d headers)", len(*h))
}

func (h *headerList) Set(v string) error {
	*h = append(*h, v)
	return nil
}

// values returns the header values given, for redaction.
func (h headerList) values() []string {
	var s []string
	for _, line := range h {
		if _, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(v) != "" {
			s = append(s, strings.TrimSpace(v))
		}
	}
	return s
}

// config returns the headers as an auth.Config, over what the environment gives under envPrefix (none when
// ""); an error names the flag and the header's position, or the variable, never a value.
func (h headerList) config(flag, envPrefix string) (auth.Config, error) {
	var c auth.Config
	if envPrefix != "" {
		var err error
		if c, err = auth.FromEnv(envPrefix); err != nil {
			return auth.Config{}, err
		}
	}
	for i, line := range h {
		if err := c.AddHeader(line); err != nil {
			return auth.Config{}, fmt.Errorf("-%s #%d: %v", flag, i+1, err)
		}
	}
	return c, nil
}

// fromEnv fills the flags that default to the environment, after parsing, so that -h never prints what the
// environment holds.
func (f *collectFlags) fromEnv() {
	if len(f.urls) == 0 && f.servers == "" {
		if env := strings.TrimSpace(os.Getenv(vmtest.EnvVLLMURL)); env != "" {
			f.urls = stringList{env}
			f.url = env
		}
	}
	if len(f.urls) == 1 {
		f.url = f.urls[0]
	}
}

// redactingWriter passes every write through auth.Redact with the command's secrets.
type redactingWriter struct {
	w       io.Writer
	secrets []string
}

// redactingFile is a redactingWriter in front of a file, which still says which file (live.IsTerminal).
type redactingFile struct {
	*redactingWriter
	f *os.File
}

func (r redactingFile) Fd() uintptr { return r.f.Fd() }

// redacting returns w behind auth.Redact with secrets: everything a command prints goes through it.
func redacting(w io.Writer, secrets []string) io.Writer {
	r := &redactingWriter{w: w, secrets: secrets}
	if f, ok := w.(*os.File); ok {
		return redactingFile{r, f}
	}
	return r
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	s := string(p)
	red := auth.Redact(s, r.secrets...)
	if red == s {
		return r.w.Write(p)
	}
	if _, err := io.WriteString(r.w, red); err != nil {
		return 0, err
	}
	return len(p), nil
}
