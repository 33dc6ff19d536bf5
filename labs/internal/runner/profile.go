package runner

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
)

// profileKinds are the profiles taken over a profiled leg: the URL path on
// the admin port (each takes ?seconds=, which for allocs, mutex and block
// makes a delta over the window) and the pass it belongs to. fgprof gets a
// pass of its own: it samples every goroutine's stack 99 times a second, and
// that work would otherwise fill the CPU profile.
var profileKinds = []struct {
	kind, path string
	pass       int
}{
	{"cpu", "/debug/pprof/profile", 0},
	{"allocs", "/debug/pprof/allocs", 0},
	{"mutex", "/debug/pprof/mutex", 0},
	{"block", "/debug/pprof/block", 0},
	{"fgprof", "/debug/fgprof?format=pprof", 1},
}

// Profiling is how a side's profiled legs are taken.
type Profiling struct {
	// Work is the work, in seconds at the side's slowest measured rate,
	// that a profiled leg does; 0 means 5.
	Work  float64
	Trace bool // also capture a short execution trace
	// Kind is the teaching profile ("cpu", "fgprof", ...): Side.Stage's
	// share of it is the side's StageShare.
	Kind string
}

// Profile runs side's profiled legs: w's requests, with the profilers on,
// in two passes (pprof's profiles, then fgprof alone). Their numbers stay
// out of the statistics: profilers cost the server time.
func (b *Bench) Profile(ctx context.Context, side *Side, w Work, p Profiling) error {
	side.Profiles = map[string]string{}
	for pass := range 2 {
		if err := b.profilePass(ctx, side, w, p, pass); err != nil {
			return err
		}
	}
	if tr := side.Profiles["trace"]; tr != "" {
		// The trace's scheduler-latency profile: where goroutines waited
		// to run, by the stack that made them runnable. A few KB, where
		// the trace is megabytes: the reference captures keep this one.
		out, err := exec.CommandContext(ctx, "go", "tool", "trace", "-pprof=sched", tr).Output()
		if err != nil {
			return fmt.Errorf("go tool trace -pprof=sched %s: %w", tr, err)
		}
		path := filepath.Join(b.OutDir, side.Name+"-sched.pb.gz")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		side.Profiles["sched"] = path
	}
	if side.Stage == "" {
		return nil // a comparison of whole configurations: no one stage
	}
	// The lab's own metric: the stage's share of the lab's profile.
	prof, err := flame.Load(side.Profiles[p.Kind])
	if err != nil {
		return err
	}
	re := regexp.MustCompile("^" + regexp.QuoteMeta(side.Stage) + `\.`)
	side.StageShare, err = flame.FuncShare(prof, re, sampleType[p.Kind])
	return err
}

// profilePass runs one profiled leg of side: pass 0 takes pprof's profiles
// (and a trace), pass 1 fgprof alone.
//
// A profiled leg is timed, not counted: the load runs for as long as the
// profiles' window (writes, then reads for the last third when the lab
// has reads), so the window is full of work however fast or slow the
// machine is today. A fixed amount of work would leave an idle tail in the
// window, or outlast it on a busy laptop; the statistics come from the
// measured legs, which do fixed work.
//
// It is long on purpose: the window, the profilers started together, the
// load that fills it and the goroutine snapshot belong to one leg and share
// its timing.
func (b *Bench) profilePass(ctx context.Context, side *Side, w Work, p Profiling, pass int) error {
	srv, audit, err := b.start(ctx, side.Bin, side.Stages, fmt.Sprintf("%s-profiled%d", side.Name, pass), pass == 0, w.SweepKeys)
	if err != nil {
		return err
	}
	defer os.Remove(audit)
	defer srv.kill()
	spec := w.Load
	spec.Target = srv.public
	if spec.Warmup > 0 {
		if _, err := load.Run(ctx, spec.WarmupSpec(), nil); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	secs := profileWindow(p.Work)
	window := time.Duration(secs) * time.Second
	var mu sync.Mutex
	var errs []error
	fetch := func(kind, url string) {
		body, err := get(ctx, srv.admin+url)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s profile: %w", kind, err))
			return
		}
		path := filepath.Join(b.OutDir, side.Name+"-"+kind+".pb.gz")
		if kind == "trace" {
			path = filepath.Join(b.OutDir, side.Name+".trace")
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			errs = append(errs, err)
			return
		}
		side.Profiles[kind] = path
	}
	var wg sync.WaitGroup
	for _, k := range profileKinds {
		if k.pass != pass {
			continue
		}
		sep := "?"
		if strings.Contains(k.path, "?") {
			sep = "&"
		}
		url := fmt.Sprintf("%s%sseconds=%d", k.path, sep, secs)
		wg.Go(func() { fetch(k.kind, url) })
	}
	if pass == 0 {
		if p.Trace {
			wg.Go(func() { fetch("trace", "/debug/pprof/trace?seconds=2") })
		}
		if w.SweepKeys > 0 {
			// The sweep inside the window, as in the measured legs.
			wg.Go(func() {
				if _, err := srv.sweepAfter(ctx, window/3); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		// A goroutine snapshot in the thick of it.
		wg.Go(func() {
			time.Sleep(window / 2)
			fetch("goroutine", "/debug/pprof/goroutine")
		})
	}
	readersCtx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	var readers sync.WaitGroup
	if w.StatsReaders > 0 {
		readers.Go(func() { _, _ = load.StatsReaders(readersCtx, srv.public, w.StatsReaders) })
	}
	// The load outlasts the window by a little, so no profile ends in an
	// idle tail.
	type phase struct {
		kind load.Kind
		d    time.Duration
	}
	phases := []phase{{spec.Kind, window + 300*time.Millisecond}}
	if w.Reads != 0 {
		phases = []phase{{spec.Kind, window * 2 / 3}, {load.Recent, window/3 + 300*time.Millisecond}}
	}
	for _, ph := range phases {
		s := spec
		s.Kind, s.Mode, s.Warmup, s.Requests, s.Limit = ph.kind, load.Capacity, 0, math.MaxInt32, ph.d
		if ph.kind == spec.Kind {
			s.Mode = spec.Mode // a latency lab is profiled at its own rate
		}
		res, err := load.Run(ctx, s, nil)
		if err != nil {
			return fmt.Errorf("profiling %s: %w", side.Name, err)
		}
		// The requests in flight when the phase's time is up are cut off;
		// any other failure is the server's.
		if failed := res.Requests - res.Succeeded; res.Succeeded == 0 || failed > spec.Workers {
			return fmt.Errorf("profiling %s: %d of %d requests failed (%v); server log:\n%s", side.Name, failed, res.Requests, res.Errors, srv.stderr)
		}
	}
	stopReaders()
	readers.Wait()
	b.Progressf("  %s: waiting for the profiles (%ds windows)", side.Name, secs)
	wg.Wait()
	if err := srv.stop(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("profiling %s: %v", side.Name, errs)
	}
	return nil
}

// profileWindow is the seconds of a profiled leg for Profiling.Work: a
// profile needs samples (a CPU profile takes 100 a second), so work
// seconds (0 means 5), and one more for the load to reach speed.
func profileWindow(work float64) int {
	if work <= 0 {
		work = 5
	}
	return int(math.Ceil(work)) + 1
}

// sampleType is the value each profile kind is read by. Always passed
// explicitly: pprof's driver remembers some settings between calls.
var sampleType = map[string]string{"cpu": "cpu", "fgprof": "time", "allocs": "alloc_space", "mutex": "delay", "block": "delay", "goroutine": "goroutine"}
