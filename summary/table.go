package summary

//go:generate go test -run TestReadmeMetricTable|TestLookupDocListsTheRegistry -update .

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// MarkdownTable renders the registry as the Markdown table of metric names README.md holds between
// ReadmeBegin and ReadmeEnd: one row per entry with its name, synonyms, unit, direction and doc line, and a
// legend of the parts a name chooses. TestReadmeMetricTable keeps README.md equal to it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| name | unit | better | what it is |\n|---|---|---|---|\n")
	for _, m := range registry {
		name := "`" + m.Name + "`"
		if len(m.Synonyms) > 0 {
			name += " (also " + backquoted(m.Synonyms) + ")"
		}
		better := "lower"
		switch m.Direction {
		case HigherIsBetter:
			better = "higher"
		case Neutral:
			better = "neither"
		}
		b.WriteString("| " + mdCell(name) + " | " + mdCell(m.Unit) + " | " + better + " | " + mdCell(m.Doc) + " |\n")
	}
	b.WriteString("\nA name chooses one word where the table lists several (`<p50|p99>`); `avg` and `mean` stand for\n" +
		"each other, `median` and `med` for `p50`. Names are case-insensitive. In a name,\n\n")
	for i, ph := range placeholders {
		end := ";\n"
		if i == len(placeholders)-1 {
			end = ".\n"
		}
		b.WriteString("- `" + ph.name + "` is " + ph.doc + end)
	}
	b.WriteString("\nEvery request figure (" + backquoted(groupHeads) + ") is also kept per model and per turn:\n" +
		"`model.<name>.<figure>` over the requests that named that model or LoRA adapter (`model.base.ttft.p99`; a name\n" +
		"may hold dots), `turn.<k>.<figure>` over the k-th turns of multi-turn sessions, k from 1 (`turn.2.ttft.p99`).\n" +
		"A model or turn the run does not have is no data, with a note naming those it has. ITL is not kept per turn\n" +
		"(a turn's request is in its model's ITL): `turn.<k>.itl.*` is refused as an unknown metric.\n" +
		"Every `server.*` figure is also kept per replica when the server is several (`Options.Servers`, Prometheus\n" +
		"series with several instances): `" + ReplicaPrefix + "<name>.server.<figure>` over that replica's series alone\n" +
		"(`" + ReplicaPrefix + "r0.server.ttft.p99`), where `server.<figure>` is the aggregate over them all.\n")
	return b.String()
}

// Markers of the generated block in README.md.
const (
	ReadmeBegin = "<!-- metric names: generated from summary.Registry by `go generate ./summary`; do not edit -->"
	ReadmeEnd   = "<!-- end of metric names -->"
)

func backquoted(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = "`" + w + "`"
	}
	return orList(q)
}

// mdCell escapes the pipes of a table cell.
func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// docList renders the registry as the list of names in Summary.Lookup's doc comment, between docBegin and
// docEnd in lookup.go: one line per entry, name, unit, direction and synonyms aligned in columns.
func docList() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, m := range registry {
		syn := ""
		if len(m.Synonyms) > 0 {
			syn = "also " + orList(m.Synonyms)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, m.Unit, m.Direction, syn)
	}
	_ = tw.Flush() // a strings.Builder does not fail
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		out.WriteString("//\t" + strings.TrimRight(line, " ") + "\n")
	}
	return out.String()
}

// Markers of the generated list in Summary.Lookup's doc comment (lookup.go).
const (
	docBegin = "// Every name, from the registry (go generate ./summary writes this list; README.md explains each):\n//\n"
	docEnd   = "//\n// (end of the list)\n"
)
