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
	side.ProfileCoverage = 1
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
// It is long on purpose: the window's size, the profilers started together,
// the goroutine snapshot and the coverage check belong to one leg and share
// its timing.
func (b *Bench) profilePass(ctx context.Context, side *Side, w Work, p Profiling, pass int) error {
	if err := b.Fresh(ctx); err != nil {
		return err
	}
	audit := filepath.Join(b.OutDir, fmt.Sprintf("audit-%s-profiled%d.log", side.Name, pass))
	defer os.Remove(audit)
	srv, err := startServer(ctx, b.ServerBin, side.Stages, b.DB.URL, audit, pass == 0)
	if err != nil {
		return err
	}
	defer srv.kill()

	// A profile needs samples (a CPU profile takes 100 a second), and a
	// window that covers the work. Each side's profiled legs do ProfileWork
	// seconds' worth of the same requests at that side's slowest measured
	// rate: a fast side would finish the measured legs' work in under a
	// second, and a slow one would keep the profilers waiting for minutes.
	var longest time.Duration
	for _, l := range side.Legs {
		longest = max(longest, l.Load.Duration)
	}
	least := p.Work
	if least <= 0 {
		least = 5
	}
	requests := w.Load.Requests
	if longest > 0 {
		perSec := float64(w.Load.Requests) / longest.Seconds()
		requests = max(1, int(math.Ceil(least*perSec)))
		longest = time.Duration(least * float64(time.Second))
	}
	// The window must cover the whole work. Profiling slows the server, so
	// allow twice the expected time. Time after the work ends adds no CPU
	// samples; in fgprof it adds idle goroutines, which the lesson teaches
	// to look past.
	secs := int(math.Ceil(longest.Seconds()*2)) + 1
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
	during := func() {
		windowStart := time.Now()
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
			// A goroutine snapshot in the thick of it.
			time.Sleep(longest / 2)
			fetch("goroutine", "/debug/pprof/goroutine")
		}
		// The profiles run for the whole window, which outlasts the work:
		// say so while waiting.
		done := make(chan struct{})
		go func() {
			t := time.NewTicker(2 * time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					b.Progressf("  profile window: %ds of %ds", int(time.Since(windowStart).Seconds()), secs)
				}
			}
		}()
		wg.Wait()
		close(done)
	}
	w.Load.Requests = requests
	leg, err := b.drive(ctx, srv, during, w)
	if err != nil {
		return err
	}
	// A busy machine (an instructor's laptop with a video call) can make
	// the work outlast the window. The profiles are still worth showing:
	// say how much of the work they cover rather than abort the demo.
	if window := time.Duration(secs) * time.Second; leg.Load.Duration > window {
		side.ProfileCoverage = min(side.ProfileCoverage, window.Seconds()/leg.Load.Duration.Seconds())
	}
	if err := srv.stop(); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fmt.Errorf("profiling %s: %v", side.Name, errs)
	}
	return nil
}

// sampleType is the value each profile kind is read by. Always passed
// explicitly: pprof's driver remembers some settings between calls.
var sampleType = map[string]string{"cpu": "cpu", "fgprof": "time", "allocs": "alloc_space", "mutex": "delay", "block": "delay", "goroutine": "goroutine"}
