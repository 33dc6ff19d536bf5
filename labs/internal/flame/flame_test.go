package flame

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// synthetic builds a CPU profile with known samples: each stack is listed
// leaf first, with its sample count.
func synthetic(t *testing.T, stacks map[string]int64) string {
	t.Helper()
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
		TimeNanos:  time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).UnixNano(),
	}
	funcs := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	for stack, n := range stacks {
		var sl []*profile.Location
		for _, name := range strings.Split(stack, ";") {
			loc, ok := locs[name]
			if !ok {
				fn := &profile.Function{ID: uint64(len(funcs) + 1), Name: name, SystemName: name, Filename: "x.go"}
				funcs[name] = fn
				p.Function = append(p.Function, fn)
				loc = &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: fn, Line: 1}}}
				locs[name] = loc
				p.Location = append(p.Location, loc)
			}
			sl = append(sl, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: sl, Value: []int64{n, n * 10_000_000}})
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cpu.pb.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := p.Write(f); err != nil {
		t.Fatal(err)
	}
	return path
}

var before = map[string]int64{
	"regexp.(*Regexp).doOnePass;baseline.Parser.Parse;server.postEvents;main": 40,
	"strconv.ParseInt;baseline.Parser.Parse;server.postEvents;main":           10,
	"syscall.Syscall6;pgx.Exec;server.postEvents;main":                        50,
}

var after = map[string]int64{
	"bytes.IndexByte;solution.Parser.Parse;server.postEvents;main": 10,
	"syscall.Syscall6;pgx.Exec;server.postEvents;main":             50,
}

func TestFuncShare(t *testing.T) {
	p, err := Load(synthetic(t, before))
	if err != nil {
		t.Fatal(err)
	}
	s, err := FuncShare(p, regexp.MustCompile(`Parser\.Parse$`), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if s.Cum != 0.5 || s.Flat != 0 {
		t.Errorf("Parse: %v, want cum 50%% and flat 0%%", s)
	}
	s, _ = FuncShare(p, regexp.MustCompile(`^regexp\.`), "")
	if s.Flat != 0.4 || s.Cum != 0.4 {
		t.Errorf("regexp: %v, want 40%% flat and cum", s)
	}
	if _, err := FuncShare(p, regexp.MustCompile(`x`), "alloc_space"); err == nil {
		t.Error("a missing sample type must be an error")
	}
}

func TestHTML(t *testing.T) {
	src := synthetic(t, before)
	out := filepath.Join(t.TempDir(), "cpu.html")
	if err := HTML(src, out, Page{Title: "lab 6 before: cpu", About: "what it shows", Live: "make flame-6 PROFILE=before-cpu", Back: "report.html"}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(out)
	html := string(page)
	for _, want := range []string{"baseline.Parser.Parse", "regexp.(*Regexp).doOnePass", "<script",
		"<title>lab 6 before: cpu</title>", "what it shows", "make flame-6 PROFILE=before-cpu", `href="report.html"`} {
		if !strings.Contains(html, want) {
			t.Errorf("flame graph HTML lacks %q", want)
		}
	}
	// Self-contained: nothing fetched from elsewhere when opened from file://.
	external := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)\s*=\s*["']?(https?:)?//`)
	if m := external.FindString(html); m != "" {
		t.Errorf("flame graph loads an external resource: %s", m)
	}
	// Every link works from file:// or is gone: pprof's page links to its
	// own server ("./top", "?f=...", "./download"), which a static copy
	// does not have.
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if l := m[1]; l != "#" && l != "report.html" {
			t.Errorf("static flame graph keeps a link to pprof's server: href=%q", l)
		}
	}
	if strings.Contains(html, "unknown time") {
		t.Error(`the page still says "unknown time" where it should say what it shows`)
	}
}

// TestStaticNeedsFixing proves TestHTML's link check can fail: pprof's own
// page, untouched, has live links.
func TestStaticNeedsFixing(t *testing.T) {
	raw := `<html><head><title>unknown time</title></head><body><h1><a href="./">pprof</a></h1><a href="./download">Download</a><a href="?f=x" id="focus">Focus</a></body></html>`
	if !liveLink.MatchString(raw) {
		t.Fatal("liveLink matches none of pprof's live links")
	}
	out := string(Static([]byte(raw), Page{Title: "t"}))
	if liveLink.MatchString(out) || strings.Contains(out, "unknown time") {
		t.Errorf("Static left a live link or pprof's title:\n%s", out)
	}
}

func TestDiff(t *testing.T) {
	base, cand := synthetic(t, before), synthetic(t, after)
	out := filepath.Join(t.TempDir(), "diff.html")
	if err := HTML(cand, out, Page{Title: "diff"}, "-diff_base="+base); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(out)
	if !strings.Contains(string(page), "solution.Parser.Parse") || !strings.Contains(string(page), "baseline.Parser.Parse") {
		t.Error("diff flame graph must show both the removed and the added functions")
	}
	top, err := Top(cand, 10, "-diff_base="+base)
	if err != nil {
		t.Fatal(err)
	}
	// In a diff the baseline's frames are negative: the baseline parser's
	// 500ms are gone, the solution's 100ms are new.
	if !regexp.MustCompile(`-500ms.*baseline\.Parser\.Parse`).MatchString(top) ||
		!regexp.MustCompile(`\s100ms.*solution\.Parser\.Parse`).MatchString(top) {
		t.Errorf("diff top table does not show the change:\n%s", top)
	}
}

func TestTop(t *testing.T) {
	top, err := Top(synthetic(t, before), 10)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(top, "\n")
	var first string
	for i, l := range lines {
		if strings.Contains(l, "flat%") && i+1 < len(lines) {
			first = lines[i+1]
		}
	}
	if !strings.Contains(first, "syscall.Syscall6") {
		t.Errorf("top row = %q, want syscall.Syscall6 (50 samples); table:\n%s", first, top)
	}
}
