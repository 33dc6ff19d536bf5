package pgo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/runner"
)

// Config is one make lab-9 run.
type Config struct {
	Bench *runner.Bench // its ServerBin is ignored: Run builds both servers
	Lab   *labs.Lab     // lab 9
	Impl  labs.Impl     // whose PGOMerge builds the after side's profile
	// Seconds is each CPU capture's window; Run takes two for the profile
	// and one of the all-baseline server for the stale-profile lesson.
	Seconds int
	runner.Options
}

// Result is what make lab-9 found: the comparison, and what the compiler
// did with the profile.
type Result struct {
	Report   *runner.Report
	Captures []string // the CPU profiles default.pgo was merged from
	// Profile is the default.pgo the after side was built with; empty if
	// the implementation returned none (both sides -pgo=off: an A/A run).
	Profile         string
	Samples         int64 // CPU samples in it
	SizeOff, SizeOn int64 // the binaries, bytes
	Off, On         Decisions
	Added, Removed  []string // -m's inlining lines in flamelab's code: on minus off, off minus on
	Stale           []Stale
}

// Stale is what a profile of something else than the measured server
// would have had the compiler do, beside the fresh profile's decisions.
type Stale struct {
	Name, What string
	Decisions  Decisions
	Kept       int // of the fresh profile's PGO inlinings, how many this one makes too
	Other      int // PGO inlinings the fresh profile does not make
}

// allFixed is the server lab 9 builds: every stage at its solution.
func allFixed() labs.Choice { return labs.Fix(labs.StagedNumbers()...) }

// Run builds the fixed server without a profile, takes two CPU profiles of
// it under cfg's load, merges them with cfg.Merge into default.pgo, builds
// the same source with it, and compares the two builds. Then it reads the
// compiler's report for both, and for three stale profiles.
//
// It is long on purpose: make lab-9's steps, in the order they run; no
// compiler runs while a leg is measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	b := *cfg.Bench
	merge, err := cfg.Lab.PGO(cfg.Impl)
	if err != nil {
		return nil, err
	}
	c := allFixed()
	res := &Result{}
	off := filepath.Join(b.OutDir, "flamelab-server-nopgo")
	b.Progressf("lab-9: building the fixed server without a profile (-pgo=off)")
	if _, err := labs.BuildServerWith(ctx, off, c, []string{"-pgo=off"}, nil); err != nil {
		return nil, err
	}
	defer os.Remove(off)
	b.ServerBin = off
	seconds := max(1, cfg.Seconds)
	b.Progressf("lab-9: two %d s CPU profiles of it under the lab's load", seconds)
	caps, err := b.CPUCaptures(ctx, c.Flag(), cfg.Work.Load, seconds, 2, "capture")
	if err != nil {
		return nil, err
	}
	res.Captures = caps
	profs, err := loadAll(caps)
	if err != nil {
		return nil, err
	}
	merged, err := merge(profs)
	if err != nil {
		return nil, fmt.Errorf("lab 9's %s Merge: %w", cfg.Impl, err)
	}
	pgoFlag := "off"
	if merged != nil {
		res.Profile = filepath.Join(b.OutDir, "default.pgo")
		if err := flame.Write(merged, res.Profile); err != nil {
			return nil, err
		}
		pgoFlag, res.Samples = res.Profile, samples(merged)
	}
	on := filepath.Join(b.OutDir, "flamelab-server-pgo")
	b.Progressf("lab-9: building the same source with -pgo=%s (PGO recompiles every package with the profile: a minute or two)", pgoFlag)
	if _, err := labs.BuildServerWith(ctx, on, c, []string{"-pgo=" + pgoFlag}, nil); err != nil {
		return nil, err
	}
	defer os.Remove(on)
	if res.SizeOff, err = size(off); err != nil {
		return nil, err
	}
	if res.SizeOn, err = size(on); err != nil {
		return nil, err
	}

	rep, err := b.Compare(ctx, runner.Comparison{
		Title: fmt.Sprintf("lab %d (%s)", cfg.Lab.Number, cfg.Lab.Slug), Lab: cfg.Lab.Number, Slug: cfg.Lab.Slug, Trick: cfg.Lab.Trick, Claim: cfg.Lab.Claim, Profile: cfg.Lab.Profile,
		A:       &runner.Side{Name: "before", Impl: labs.Baseline, Stages: c.Flag(), Bin: off, Build: "go build -pgo=off"},
		B:       &runner.Side{Name: "after", Impl: cfg.Impl, Stages: c.Flag(), Bin: on, Build: "go build -pgo=" + filepath.Base(pgoFlag)},
		Options: cfg.Options,
	})
	if err != nil {
		return nil, err
	}
	res.Report = rep

	// The compiler's decisions, after the measured legs.
	b.Progressf("lab-9: the compiler's report for both builds")
	if res.Off, err = Compile(ctx, c, "off"); err != nil {
		return nil, err
	}
	if res.On, err = Compile(ctx, c, pgoFlag); err != nil {
		return nil, err
	}
	res.Added, res.Removed = Diff(res.Off, res.On)
	if merged != nil {
		if err := res.stale(ctx, &b, cfg, seconds); err != nil {
			return nil, err
		}
	}
	if err := res.save(b.OutDir); err != nil {
		return nil, err
	}
	return res, nil
}

// stale builds with two profiles of something else than the fixed server
// under its load and counts which of the fresh profile's decisions survive:
// the profile of the same source running every stage at its baseline (the
// server before the fixes: the profile a team still has after the code it
// profiled moved), and a microbenchmark's (lab 06's parser, alone).
func (r *Result) stale(ctx context.Context, b *runner.Bench, cfg Config, seconds int) error {
	base, err := labs.ParseChoice("all=baseline")
	if err != nil {
		return err
	}
	b.Progressf("lab-9: a stale profile: %d s of the all-baseline server", seconds)
	caps, err := b.CPUCaptures(ctx, base.Flag(), cfg.Work.Load, seconds, 1, "stale-baseline")
	if err != nil {
		return err
	}
	micro := filepath.Join(b.OutDir, "stale-microbenchmark.pb.gz")
	b.Progressf("lab-9: a microbenchmark's profile: lab 06's parser benchmark")
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "Parse/impl=solution", "-benchtime", "2s", "-cpuprofile", micro, "-o", filepath.Join(b.OutDir, "parsing.test"), "./labs/06-parsing/")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("the microbenchmark's profile: %v\n%s", err, out)
	}
	os.Remove(filepath.Join(b.OutDir, "parsing.test"))
	fresh := r.On.Keys()
	stales := []struct{ name, what, file string }{
		{"all-baseline server", "the same source, every stage at its baseline: a profile from before the fixes", caps[0]},
		{"microbenchmark", "go test -bench Parse/impl=solution ./labs/06-parsing/: the parser alone", micro},
	}
	if commit, file, err := oldProfile(ctx, b.OutDir); err == nil {
		stales = append(stales, struct{ name, what, file string }{"older commit", fmt.Sprintf("the fixed server's CPU profile at commit %s (%s), the oldest reference capture of lab 7's after side in git", commit.hash, commit.date), file})
	} else {
		b.Progressf("lab-9: no older commit's profile: %v", err)
	}
	for _, s := range stales {
		b.Progressf("lab-9: the compiler's report with the %s's profile", s.name)
		d, err := Compile(ctx, allFixed(), s.file)
		if err != nil {
			return err
		}
		st := Stale{Name: s.name, What: s.what, Decisions: d}
		for _, k := range d.Keys() {
			if slices.Contains(fresh, k) {
				st.Kept++
			} else {
				st.Other++
			}
		}
		r.Stale = append(r.Stale, st)
	}
	return nil
}

// oldCapture is lab 07's after side's CPU profile: the fixed server but
// lab 8, the closest capture git keeps of the server lab 9 builds.
const oldCapture = "profiles/reference/lab-7/after-cpu.pb.gz"

type commit struct{ hash, date string }

// oldProfile writes the oldest version of oldCapture in git's history to
// dir: a real profile of the fixed server from an older commit, whose code
// has moved since.
func oldProfile(ctx context.Context, dir string) (commit, string, error) {
	out, err := exec.CommandContext(ctx, "git", "log", "--format=%h %ad", "--date=short", "--", oldCapture).Output()
	if err != nil {
		return commit{}, "", fmt.Errorf("git log: %w", err)
	}
	lines := strings.Fields(strings.TrimSpace(string(out)))
	if len(lines) < 2 {
		return commit{}, "", fmt.Errorf("%s is not in git's history", oldCapture)
	}
	c := commit{hash: lines[len(lines)-2], date: lines[len(lines)-1]}
	body, err := exec.CommandContext(ctx, "git", "show", c.hash+":"+oldCapture).Output()
	if err != nil {
		return commit{}, "", fmt.Errorf("git show: %w", err)
	}
	file := filepath.Join(dir, "stale-commit.pb.gz")
	return c, file, os.WriteFile(file, body, 0o644)
}

func loadAll(paths []string) ([]*profile.Profile, error) {
	var out []*profile.Profile
	for _, p := range paths {
		pr, err := flame.Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

func samples(p *profile.Profile) int64 {
	var n int64
	for _, s := range p.Sample {
		n += s.Value[0]
	}
	return n
}

func size(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (r *Result) save(dir string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "pgo.json"), js, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "pgo.md"))
	if err != nil {
		return err
	}
	r.WriteText(f)
	return f.Close()
}

// WriteText prints what PGO changed: the builds, the compiler's decisions
// in flamelab's code, and the stale profiles'.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\n== what PGO changed ==\n")
	if r.Profile == "" {
		fmt.Fprintf(w, "no profile: the implementation returned none, so both builds are -pgo=off (an A/A run)\n")
	} else {
		fmt.Fprintf(w, "profile: default.pgo, %d CPU samples merged from %d captures\n", r.Samples, len(r.Captures))
	}
	fmt.Fprintf(w, "binary: %s bytes without, %s with (%+.1f%%)\n", runner.Num(float64(r.SizeOff)), runner.Num(float64(r.SizeOn)), 100*(float64(r.SizeOn)/float64(r.SizeOff)-1))
	fmt.Fprintf(w, "call sites in flamelab's code PGO inlined (hot, over the budget of 80): %d (-pgo=off: %d)\n", len(r.On.Inlined), len(r.Off.Inlined))
	for _, in := range r.On.Inlined {
		fmt.Fprintf(w, "  %-48s %s (cost %d) into %s\n", in.Pos, short(in.Callee), in.Cost, short(in.Caller))
	}
	fmt.Fprintf(w, "interface calls PGO devirtualised in flamelab's code: %d (-pgo=off: %d)\n", len(r.On.Devirtualized), len(r.Off.Devirtualized))
	for _, d := range r.On.Devirtualized {
		fmt.Fprintf(w, "  %s\n", d)
	}
	fmt.Fprintf(w, "package server's stage calls with samples in the profile (pgodebug=3):\n")
	for _, c := range r.On.ServerCalls {
		to := "left indirect: the profile's hottest callee on that line is another call's"
		if strings.HasPrefix(c.Hottest, "github.com/flamelab/flamelab/labs/") {
			to = "left indirect: the callee is not visible from package server"
		}
		if c.Devirtualize != "" {
			to = "devirtualised to " + short(c.Devirtualize)
		}
		fmt.Fprintf(w, "  %-28s hottest callee %s (%d samples): %s\n", c.Pos, short(c.Hottest), c.Weight, to)
	}
	fmt.Fprintf(w, "-m's inlining lines in flamelab's code: %d more with the profile, %d fewer\n", len(r.Added), len(r.Removed))
	if len(r.Stale) > 0 {
		fmt.Fprintf(w, "\n== stale profiles: what still applies ==\n")
		for _, s := range r.Stale {
			fmt.Fprintf(w, "%s (%s):\n  PGO inlinings %d: %d of the fresh profile's %d, %d others\n", s.Name, s.What, len(s.Decisions.Inlined), s.Kept, len(r.On.Inlined), s.Other)
		}
	}
}

// short drops the module path from a function name.
func short(fn string) string {
	return strings.TrimPrefix(fn, "github.com/flamelab/flamelab/")
}
