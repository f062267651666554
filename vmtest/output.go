package vmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds the bytes of a name Sanitize returns, its hash suffix included, so that the longest
// file name made from it (a journal's requests file with a run id, or its temporary file) stays well under
// the 255 bytes most file systems allow.
const MaxNameBytes = 100

// Sanitize turns a test name (or any label) into a safe single path element. Letters and digits (of any
// script, so "Тест" and "日本" stay readable), '.', '-' and '_' are kept; every other rune becomes "_", every
// ".." becomes "_", runs of "_" collapse, and leading dots and outer "_" are dropped, so "../x", "a/b" and
// "with space" cannot escape or split a directory. When anything was changed or cut (to MaxNameBytes bytes,
// at a rune boundary), "-" and the first 8 hex digits of the SHA-256 of the original name are appended, so
// names that sanitize alike ("a/b", "a b", "a_b") still get distinct files; a name already safe is returned
// as it is, so Sanitize(Sanitize(x)) == Sanitize(x). An empty name is "test"; a name with nothing safe in it is "test" and its hash.
func Sanitize(name string) string {
	if name == "" {
		return "test"
	}
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case r == '.' || r == '-' || r == '_' || r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", "_")
	}
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	s = strings.Trim(strings.TrimLeft(s, "."), "_")
	if s == name && len(s) <= MaxNameBytes {
		return s
	}
	if s == "" {
		s = "test"
	}
	const hashLen = 1 + 8
	if len(s) > MaxNameBytes-hashLen {
		s = strings.TrimRight(cutRunes(s, MaxNameBytes-hashLen), "._")
	}
	sum := sha256.Sum256([]byte(name))
	return s + "-" + hex.EncodeToString(sum[:4])
}

// cutRunes returns s's longest prefix of at most n bytes that ends at a rune boundary.
func cutRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
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
