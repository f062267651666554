package vmtest

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
)

// Sanitize turns a test name (or any label) into a safe single path element: every rune outside
// [A-Za-z0-9._-] (any byte of a multi-byte rune included) becomes "_", every ".." becomes "_", runs of "_"
// collapse, and leading dots and outer "_" are dropped, so "../x", "a/b" and "with space" cannot escape or
// split a directory. An empty result is "test".
func Sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		ok := c == '.' || c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			b[i] = '_'
		}
	}
	s := string(b)
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", "_")
	}
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	s = strings.Trim(strings.TrimLeft(s, "."), "_")
	if s == "" {
		return "test"
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// artifactDirer is testing.T's ArtifactDir (Go 1.26); asserted so that older Go still builds.
type artifactDirer interface{ ArtifactDir() string }

// artifactsRequested reports whether `go test -artifacts` was given.
func artifactsRequested() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

// OutputDir returns the directory a test's files go to (tb is a *testing.T, *testing.B or anything with a
// name), as DESIGN.md orders the choices: opt when not empty;
// t.ArtifactDir() when `go test -artifacts` was given; $VMTEST_OUTPUT_DIR/<sanitized test name>; else
// metrics_output/<sanitized test name> relative to the working directory (the package directory under go
// test). It creates nothing.
func OutputDir(tb interface{ Name() string }, opt string) string {
	if opt != "" {
		return opt
	}
	if a, ok := tb.(artifactDirer); ok && artifactsRequested() {
		return a.ArtifactDir()
	}
	return defaultOutputDir(Sanitize(tb.Name()))
}

// defaultOutputDir is $VMTEST_OUTPUT_DIR/name, else metrics_output/name.
func defaultOutputDir(name string) string {
	if env := os.Getenv(EnvOutputDir); env != "" {
		return filepath.Join(env, name)
	}
	return filepath.Join("metrics_output", name)
}
