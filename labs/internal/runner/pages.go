package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flamelab/flamelab/labs/internal/flame"
)

// view is one way a kind of profile is drawn: which sample it is read by,
// and the suffix of its page's name.
type view struct {
	kind, sample, suffix string
}

// views are the pages drawn of each kind: every profile by its default
// sample, and an allocation profile also by count (alloc_objects) where the
// lab's lesson reads allocations: what allocates most often is not what
// allocates the most bytes (lab 04's reflect.unsafe_New is a sliver of
// alloc_space and a third of alloc_objects).
func views(cmp *Comparison, kind string) []view {
	v := []view{{kind, sampleType[kind], ""}}
	if kind == "allocs" && cmp.Profile == "allocs" {
		v = append(v, view{kind, "alloc_objects", "-objects"})
	}
	return v
}

// name is the view's key in Report.Flamegraphs and its page's stem.
func (v view) name() string { return v.kind + v.suffix }

// about says, on each static flame graph page, what its profile counts,
// with the profile's own totals (never an example's).
func about(v view, s flame.Summary) string {
	window := ""
	if s.Duration > 0 {
		window = fmt.Sprintf(" over a window of %s", s.Duration.Round(100*time.Millisecond))
	}
	switch v.sample {
	case "cpu":
		cores := 0.0
		if s.Duration > 0 {
			cores = float64(s.Total) / float64(s.Duration)
		}
		return fmt.Sprintf("CPU profile: where goroutines were running on a CPU, sampled 100 times a second. Width: share of the CPU time. Waiting does not show here. "+
			"This one holds %s of CPU samples%s: %.2f cores busy on average (under details, \"Total samples\" says the same as a share of the window).",
			time.Duration(s.Total).Round(10*time.Millisecond), window, cores)
	case "time":
		gor := 0.0
		if s.Duration > 0 {
			gor = float64(s.Total) / float64(s.Duration)
		}
		return fmt.Sprintf("Wall-clock profile (fgprof): every goroutine's stack, running or waiting, 99 times a second. Width: share of goroutine time, waiting included. "+
			"This one holds %s of goroutine time%s: %.0f goroutines on average, one window's worth each. "+
			"Idle goroutines (the server's accept and keep-alive loops in runtime.gopark) are part of it: read what is under Server.ServeHTTP.",
			time.Duration(s.Total).Round(10*time.Millisecond), window, gor)
	case "alloc_space":
		return fmt.Sprintf("Allocation profile (alloc_space): bytes allocated%s, by the stack that allocated them; this one holds %s. The alloc_objects page counts allocations instead.",
			window, fmtBytes(s.Total))
	case "alloc_objects":
		return fmt.Sprintf("Allocation profile (alloc_objects): how many allocations%s, by the stack that made them; this one holds %d. What allocates most often is what costs the allocator and the GC most; the alloc_space page weighs them in bytes.",
			window, s.Total)
	case "delay":
		what := "Mutex profile (delay): time goroutines waited for a lock another goroutine held, charged to the stack that released it"
		if v.kind == "block" {
			what = "Block profile (delay): time goroutines spent blocked on channels, select, locks and condition variables"
		}
		return fmt.Sprintf("%s; this one holds %s of waiting%s (sampled: see the server's -mutex-profile-fraction and -block-profile-rate).", what, time.Duration(s.Total).Round(time.Millisecond), window)
	case "goroutine":
		return fmt.Sprintf("Goroutine profile: the %d goroutines alive when it was taken, by stack.", s.Total)
	}
	return ""
}

func fmtBytes(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// diffKinds are the kinds that get a before→after page.
func diffKinds(cmp *Comparison) []string { return []string{"cpu", "fgprof", "allocs", cmp.Profile} }

// render writes a flame graph per profile and view, diff flame graphs and
// top tables.
func (b *Bench) render(cmp *Comparison, rep *Report) error {
	total, done := 2*len(rep.A.Profiles)+4, 0
	last := time.Now()
	step := func(what string) {
		done++
		if time.Since(last) >= time.Second {
			last = time.Now()
			b.Progressf("  rendering %d/%d: %s", done, total, what)
		}
	}
	for _, side := range []*Side{rep.A, rep.B} {
		for kind, path := range side.Profiles {
			if kind == "trace" || kind == "sched" {
				continue // the trace is read with go tool trace; its sched profile with pprof -top
			}
			for _, v := range views(cmp, kind) {
				step(side.Name + " " + v.name())
				if err := b.page(cmp, rep, side, v, path); err != nil {
					return err
				}
			}
		}
	}
	// Diffs of profiles with the stage's packages aligned to one name
	// (flame.AlignStages): the same frame, narrower, rather than one frame
	// removed and another added. The aligned copies are scratch.
	tmp, err := os.MkdirTemp("", "flamelab-diff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, kind := range diffKinds(cmp) {
		before, after := rep.A.Profiles[kind], rep.B.Profiles[kind]
		if before == "" || after == "" {
			continue
		}
		alignedA, alignedB := filepath.Join(tmp, "before-"+kind+".pb.gz"), filepath.Join(tmp, "after-"+kind+".pb.gz")
		if err := flame.AlignStages(before, alignedA); err != nil {
			return err
		}
		if err := flame.AlignStages(after, alignedB); err != nil {
			return err
		}
		for _, v := range views(cmp, kind) {
			if _, done := rep.Flamegraphs["before→after: "+v.name()]; done {
				continue
			}
			step("diff " + v.name())
			if err := b.diffPage(cmp, rep, v, before, after, alignedA, alignedB); err != nil {
				return err
			}
		}
	}
	return nil
}

// page renders one side's profile in one view, with its top table.
func (b *Bench) page(cmp *Comparison, rep *Report, side *Side, v view, path string) error {
	html := strings.TrimSuffix(filepath.Base(path), ".pb.gz") + v.suffix + ".html"
	var flags []string
	if v.sample != "" {
		flags = append(flags, "-sample_index="+v.sample)
	}
	sum, err := flame.Summarize(path, v.sample)
	if err != nil {
		return err
	}
	p := flame.Page{
		Title: fmt.Sprintf("%s %s: %s profile (%s)", cmp.Title, side.Name, v.name(), side.Impl),
		About: about(v, sum),
		Live:  "go tool pprof -http=127.0.0.1:8081 " + strings.Join(append(flags, path), " "),
		Back:  "report.html",
	}
	if err := flame.HTML(path, filepath.Join(b.OutDir, html), p, flags...); err != nil {
		return err
	}
	rep.Flamegraphs[fmt.Sprintf("%s: %s", side.Name, v.name())] = html
	if v.suffix == "" && (v.kind == "cpu" || v.kind == "fgprof" || v.kind == "allocs" || v.kind == cmp.Profile) {
		top, err := flame.Top(path, 10, flags...)
		if err != nil {
			return err
		}
		rep.Tops[side.Name+" "+v.kind] = top
	}
	return nil
}

// diffPage renders after minus before, from the aligned copies.
func (b *Bench) diffPage(cmp *Comparison, rep *Report, v view, before, after, alignedA, alignedB string) error {
	// -normalize scales the after profile to the before one's total: the
	// profiled legs differ in length (each does a few seconds of its own
	// side's work), and a raw difference would mostly show that.
	flags := []string{"-diff_base=" + alignedA, "-normalize"}
	if v.sample != "" {
		flags = append(flags, "-sample_index="+v.sample)
	}
	sum, err := flame.Summarize(before, v.sample)
	if err != nil {
		return err
	}
	p := flame.Page{
		Title: fmt.Sprintf("%s: %s profile, after minus before", cmp.Title, v.name()),
		About: fmt.Sprintf("The difference of the two %s profiles: after (%s), scaled to the before profile's total (pprof -normalize), minus before (%s). "+
			"Each lab's stage is drawn under one name, labs/NN-slug/%s, whichever implementation ran, so a fix shows as the same frame shrinking, not as one frame removed and another added. "+
			"A frame is as wide as before and after together; the coloured part of it is the change, red where its share grew, green where it shrank; hover a frame for its before and after values. "+
			"Under details, the totals are the before profile's, and shares are of its total. The before profile: %s",
			v.name(), rep.B.Impl, rep.A.Impl, flame.StageName, about(v, sum)),
		Live: fmt.Sprintf("go tool pprof -http=127.0.0.1:8081 -diff_base=%s -normalize %s (the raw profiles: there the stages keep their package names)",
			before, strings.Join(append(flags[2:], after), " ")),
		Back: "report.html",
	}
	name := "diff-" + v.name() + ".html"
	if err := flame.HTML(alignedB, filepath.Join(b.OutDir, name), p, flags...); err != nil {
		return err
	}
	rep.Flamegraphs["before→after: "+v.name()] = name
	return nil
}
