package loadgen

import (
	"context"
	"os"
	"strings"
	"testing"
)

// FuzzReadShareGPT: whatever bytes a dataset file holds, ReadShareGPT returns entries or an error naming
// the file, never both and never a panic; every entry has messages of the three chat roles only, and
// Dataset.Prompts over them (word counts) either fails or keeps prompts that validate.
func FuzzReadShareGPT(f *testing.F) {
	for _, name := range []string{"testdata/sharegpt.json", "testdata/sharegpt.jsonl"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`[{"conversations": [{"from": "human", "value": "a"}]}`))
	f.Add([]byte(`{"messages": [{"role": "user", "content": [{"type": "text", "text": "x y z w"}]}], "max_tokens": 5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ReadShareGPT(strings.NewReader(string(b)), "d")
		if err != nil {
			if es != nil || !strings.HasPrefix(err.Error(), "d:") {
				t.Fatalf("entries %d with error %q (not naming the file)", len(es), err)
			}
			return
		}
		for _, e := range es {
			for _, m := range e.Messages {
				if m.Role != "user" && m.Role != "assistant" && m.Role != "system" {
					t.Fatalf("%s: role %q", e.Where, m.Role)
				}
			}
		}
		for _, multi := range []bool{false, true} {
			got, err := Dataset{Entries: es, MultiTurn: multi, MinLen: -1}.Prompts(context.Background())
			if err != nil {
				continue
			}
			for _, p := range got.Prompts {
				if verr := p.validate(); verr != nil {
					t.Fatalf("multi-turn %v: prompt %q does not validate: %v", multi, p.ID, verr)
				}
			}
		}
	})
}
