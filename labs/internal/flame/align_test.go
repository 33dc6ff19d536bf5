package flame

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestAlignStages: before and after name their stage by different packages;
// aligned, both profiles hold the same frame, so a diff draws it shrinking.
func TestAlignStages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, fn string, v int64) string {
		f := &profile.Function{ID: 1, Name: fn, SystemName: fn}
		l := &profile.Location{ID: 1, Line: []profile.Line{{Function: f}}}
		p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}}, Function: []*profile.Function{f}, Location: []*profile.Location{l},
			Sample: []*profile.Sample{{Location: []*profile.Location{l}, Value: []int64{v}}}, DurationNanos: int64(time.Second)}
		path := filepath.Join(dir, name)
		if err := Write(p, path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	before := write("before.pb.gz", "github.com/flamelab/flamelab/labs/06-parsing/baseline.Parser.Parse", 900)
	after := write("after.pb.gz", "github.com/flamelab/flamelab/labs/06-parsing/solution.Parser.Parse", 100)
	for _, src := range []string{before, after} {
		dst := src + ".aligned"
		if err := AlignStages(src, dst); err != nil {
			t.Fatal(err)
		}
		p, err := Load(dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Function[0].Name; got != "github.com/flamelab/flamelab/labs/06-parsing/stage.Parser.Parse" {
			t.Errorf("%s aligned to %q", filepath.Base(src), got)
		}
	}
	s, err := Summarize(before, "cpu")
	if err != nil || s.Total != 900 || s.Duration != time.Second {
		t.Errorf("Summarize = %+v, %v; want 900 over 1s", s, err)
	}
}
