// Package runner is the engine behind make lab-N: it runs the server with a
// lab's stage at its baseline and with the candidate (solution or exercise),
// alternating A B A B over the same fixed amount of work, captures every
// profile, renders them, and writes an honest before/after report.
package runner

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/compare"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is one make lab-N run.
type Config struct {
	Lab       *labs.Lab
	Candidate labs.Impl // side B; side A is always the baseline
	Pairs     int       // A B pairs measured
	Load      load.Spec // Target is filled in per leg
	Reads     int       // GET /users/{id}/events requests per leg, after the writes; 0: none; -1: as many as the writes
	// ProfileWork is the work, in seconds at the side's measured rate,
	// that a profiled leg does; 0 means 5.
	ProfileWork float64
	Trace       bool // also capture a short execution trace
	// StatsReaders: this many GET /stats clients in a loop, and one slow
	// one, beside every measured leg's ingest load; 0: none.
	StatsReaders int
	ServerBin    string // a built flamelab-server
	DB           *postgres.Database
	OutDir       string    // profiles/lab-N/<timestamp>
	Progress     io.Writer // progress lines; nil for none
	// Stages, if set, are the -stages of side A and side B, instead of
	// lab N's baseline and candidate with the other labs fixed (the
	// capstone compares whole configurations). Lab then only names the
	// report; its number 0 means no stage share is computed.
	Stages *[2]string
	// ProcessCPU: also measure the CPU per request of the server, Postgres
	// and the load generator (from /proc), to say what limits each side.
	ProcessCPU bool
	// Commit names the code measured (git describe), for the report.
	Commit string
	// MinLegSeconds sizes the work when Load.Requests is 0: each side
	// first runs a short calibration leg (outside the statistics), and
	// every measured leg then gets the requests the faster side needs to
	// last this long; 0 means 3. A fast server finishes a fixed 600
	// requests in a third of a second, which measures start-up and tail,
	// not throughput.
	MinLegSeconds float64
	// MaxRequests caps the sized work, so a very slow side cannot make a
	// run take an hour; 0 means 40,000. A capped size is reported.
	MaxRequests int
	// SlowLegSeconds bounds the slower side's legs when the sides differ
	// tenfold (lab 07, the capstone): the work is cut so the slow side's
	// legs last about this long, but never below a second of the faster
	// side's; 0 means 12. Both sides still get the same work, and the
	// report says when this cut it.
	SlowLegSeconds float64

	started time.Time
}

// Side is one of the two servers being compared.
type Side struct {
	Name   string // "before" (A) or "after" (B)
	Impl   labs.Impl
	Stages string   // the -stages flag it ran with
	Args   []string // more flags for the server, e.g. -discard for the HTTP ceiling
	Legs   []Leg
	// From the profiled legs, which are not part of the statistics.
	Profiles map[string]string // kind ("cpu", "fgprof", ...) -> .pb.gz path
	// StageShare is the stage's share of the lab's profile: a measured
	// figure (the tests turn such shares into budgets; this is not one).
	StageShare flame.Share
	// ProfileCoverage is the least share of a profiled leg's work its
	// profile windows covered: 1 unless the work outlasted them.
	ProfileCoverage float64 `json:",omitempty"`
}

// Leg is one measured run of the fixed work.
type Leg struct {
	Load             load.Result
	AllocsPerReq     float64
	GCCycles         uint32
	RoundTripsPerReq float64             // database round trips per request
	FsyncsPerReq     float64             // audit fsyncs per request
	BytesPerReq      float64             // bytes allocated per request
	MutexWaitPerReq  float64             // µs goroutines spent blocked on mutexes, per request
	Stats            *load.ReadersResult // the /stats readers, when the lab has them
	CPU              *CPUUse             // with Config.ProcessCPU
	GoroutinesPerReq float64             // goroutines the server created per request (runtime/metrics)
	SchedP99         float64             // p99 of the time goroutines waited runnable, over the leg, in µs
	Reads            *load.Result        // the read phase, when the lab has one
	Mode             string              // what the server said it is: "server", or "discard"
	RoundTrips       int64               // database round trips over the leg, all told
	Fsyncs           int64               // audit fsyncs over the leg, all told
	Rows             int64               // events rows after a do-nothing leg (checkDidNothing counts them); 0 otherwise
}

// Report is everything a run found; it is also written as report.json.
type Report struct {
	Lab         int
	Slug        string
	Trick       string
	Claim       string
	Profile     string // the lab's teaching profile
	Started     time.Time
	Commit      string // the code measured, when known
	Machine     string
	Database    string
	Load        load.Spec
	Pairs       int
	A, B        *Side
	StillBase   []string          // other labs' stages without a solution: they stay at baseline and may cap the gain
	Metrics     []Metric          // before/after table
	Tops        map[string]string // "before cpu" -> pprof top 10
	Flamegraphs map[string]string // title -> HTML file, relative to OutDir
	Warnings    []string
	ElapsedSecs float64
	// Sizing says how Load.Requests was chosen, when the runner chose it.
	Sizing *Sizing `json:",omitempty"`
	// RoundTrip is what one round trip to this run's database cost,
	// measured before the legs: lab 7's gain scales with it.
	RoundTrip *RoundTrip `json:",omitempty"`
}

// RoundTrip is the cost of one database round trip: SELECT 1 on one
// connection, many times, after a few not counted.
type RoundTrip struct {
	Samples     int
	Median, P90 float64 // µs
}

// String is the sentence the reports print.
func (rt *RoundTrip) String() string {
	if rt == nil {
		return ""
	}
	return fmt.Sprintf("one database round trip (SELECT 1 on one connection, %d times): median %s µs, p90 %s µs", rt.Samples, fmtNum(rt.Median), fmtNum(rt.P90))
}

// MeasureRoundTrip times n SELECT 1 round trips on one connection of pool,
// after 20 not counted (the connection's first queries prepare and warm).
func MeasureRoundTrip(ctx context.Context, pool *pgxpool.Pool, n int) (*RoundTrip, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	times := make([]float64, 0, n)
	for i := range n + 20 {
		start := time.Now()
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
			return nil, fmt.Errorf("timing a round trip: %w", err)
		}
		if i >= 20 {
			times = append(times, float64(time.Since(start).Nanoseconds())/1e3)
		}
	}
	slices.Sort(times)
	return &RoundTrip{Samples: n, Median: median(times), P90: times[len(times)*9/10]}, nil
}

// Sizing records the calibration that sized the legs.
type Sizing struct {
	MinLegSeconds float64
	CalibrationA  float64 // req/s of side A's calibration leg
	CalibrationB  float64
	Requests      int
	Capped        bool // MaxRequests was reached: the faster side's legs are shorter than MinLegSeconds
	// SlowCapped: SlowLegSeconds cut the work; the faster side's legs last
	// FastSeconds, the slower side's about SlowLegSeconds.
	SlowCapped     bool    `json:",omitempty"`
	SlowLegSeconds float64 `json:",omitempty"`
	FastSeconds    float64 `json:",omitempty"`
}

// String is the sentence the reports print.
func (s *Sizing) String() string {
	if s == nil {
		return ""
	}
	out := fmt.Sprintf("legs sized by the runner: calibration legs (outside the statistics) ran %s and %s req/s, so %d requests make the faster side's legs last about %.0f s",
		fmtNum(s.CalibrationA), fmtNum(s.CalibrationB), s.Requests, s.MinLegSeconds)
	if s.SlowCapped {
		out = fmt.Sprintf("legs sized by the runner: calibration legs (outside the statistics) ran %s and %s req/s; %d requests make the slower side's legs last about %.0f s and the faster side's about %.1f s (the sides differ so much that %.0f s of the faster side would keep the slower one busy for minutes)",
			fmtNum(s.CalibrationA), fmtNum(s.CalibrationB), s.Requests, s.SlowLegSeconds, s.FastSeconds, s.MinLegSeconds)
	}
	if s.Capped {
		out += " (capped: the faster side's legs are shorter)"
	}
	return out
}

// LegSeconds returns the shortest and longest measured leg, in seconds: a
// leg must last long enough to measure (a few seconds), whichever side ran.
func (r *Report) LegSeconds() (lo, hi float64) {
	lo = math.Inf(1)
	for _, s := range []*Side{r.A, r.B} {
		for _, l := range s.Legs {
			d := l.Load.Duration.Seconds()
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if math.IsInf(lo, 1) {
		lo = 0
	}
	return lo, hi
}

// Metric is one row of the before/after table.
type Metric struct {
	Name           string
	Unit           string
	HigherIsBetter bool
	A, B           []float64
	// NoRatio: a side measured 0 (say, no mutex wait at all), so there is
	// no ratio; Ratio is then 0 rather than NaN, which JSON cannot carry.
	NoRatio bool
	compare.Result
}

func (c *Config) progress(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+" [%s elapsed]\n", append(args, time.Since(c.started).Round(time.Second))...)
	}
}

// stagesFor returns the -stages value where lab n runs impl and every other
// lab runs its solution if it has one, and the labs left at baseline.
func stagesFor(n int, impl labs.Impl) (string, []string) {
	parts := []string{"all=baseline"}
	var base []string
	for _, l := range labs.All {
		switch {
		case l.Number == n:
			parts = append(parts, fmt.Sprintf("%d=%s", n, impl))
		case l.Has(labs.Solution):
			parts = append(parts, fmt.Sprintf("%d=solution", l.Number))
		default:
			base = append(base, fmt.Sprintf("%d (%s)", l.Number, l.Slug))
		}
	}
	return strings.Join(parts, ","), base
}

// Run performs the comparison and writes every artefact to cfg.OutDir.
//
// It is long on purpose: the comparison's steps (sizing, alternating legs,
// profiled legs, rendering, the table) in the order they run.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	start := time.Now()
	cfg.started = start
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, err
	}
	n := cfg.Lab.Number
	aStages, stillBase := stagesFor(n, labs.Baseline)
	bStages, _ := stagesFor(n, cfg.Candidate)
	if cfg.Stages != nil {
		aStages, bStages, stillBase = cfg.Stages[0], cfg.Stages[1], nil
	}
	rep := &Report{
		Lab: n, Slug: cfg.Lab.Slug, Trick: cfg.Lab.Trick, Claim: cfg.Lab.Claim, Profile: cfg.Lab.Profile,
		Started: start, Commit: cfg.Commit, Machine: machine(), Database: strings.TrimPrefix(cfg.DB.String(), "database: "), Load: cfg.Load, Pairs: cfg.Pairs,
		A:         &Side{Name: "before", Impl: labs.Baseline, Stages: aStages},
		B:         &Side{Name: "after", Impl: cfg.Candidate, Stages: bStages},
		StillBase: stillBase,
		Tops:      map[string]string{}, Flamegraphs: map[string]string{},
	}
	if !cfg.DB.Fsync {
		rep.Warnings = append(rep.Warnings, "the database runs with fsync=off: commit costs are not measured")
	}
	rt, err := MeasureRoundTrip(ctx, cfg.DB.Pool, 300)
	if err != nil {
		return nil, err
	}
	rep.RoundTrip = rt
	if cfg.Load.Requests <= 0 {
		sz, err := cfg.size(ctx, rep.A, rep.B)
		if err != nil {
			return nil, fmt.Errorf("sizing the legs: %w", err)
		}
		cfg.Load.Requests, rep.Load.Requests, rep.Sizing = sz.Requests, sz.Requests, sz
		if sz.Capped {
			rep.Warnings = append(rep.Warnings, sz.String())
		}
	}
	if cfg.Reads < 0 {
		cfg.Reads = cfg.Load.Requests
	}

	// The measured pairs, alternating, so drift of the machine hits both
	// sides alike, and in a balanced order (A B, B A, A B, ...): with a
	// fixed order, a machine that slowly speeds up or slows down makes
	// every "after" leg look better or worse, and an A/A run was once
	// called significant that way.
	total := 2 * cfg.Pairs
	for i := range cfg.Pairs {
		order := []*Side{rep.A, rep.B}
		if i%2 == 1 {
			order = []*Side{rep.B, rep.A}
		}
		for j, side := range order {
			cfg.progress("%s: leg %d/%d: %s (%s)", cfg.title(), 2*i+j+1, total, side.Name, side.Impl)
			leg, err := cfg.measure(ctx, side, fmt.Sprintf("leg%d", 2*i+j+1))
			if err != nil {
				return nil, err
			}
			side.Legs = append(side.Legs, leg)
		}
	}
	// Then profiled legs per side; their numbers stay out of the
	// statistics, because profilers cost the server time.
	for _, side := range []*Side{rep.A, rep.B} {
		cfg.progress("%s: profiling leg: %s (%s)", cfg.title(), side.Name, side.Impl)
		if err := cfg.profile(ctx, side); err != nil {
			return nil, err
		}
	}

	cfg.progress("%s: rendering flame graphs", cfg.title())
	if err := cfg.render(rep); err != nil {
		return nil, err
	}
	for _, side := range []*Side{rep.A, rep.B} {
		// 100 Hz sampling: under a second of CPU is under 100 samples.
		if cfg.Lab.Profile == "cpu" && side.StageShare.Total < int64(time.Second) {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"the %s budget share rests on %s of CPU samples (under 100 samples): too few to read much into; use more -requests",
				side.Name, side.StageShare.Of()))
		}
	}
	for _, side := range []*Side{rep.A, rep.B} {
		if side.ProfileCoverage > 0 && side.ProfileCoverage < 1 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf(
				"the %s profiles cover %.0f%% of their leg's work: the machine was slower than the window allowed (is something else running?); they are still a fair picture of where the time went",
				side.Name, 100*side.ProfileCoverage))
		}
	}
	rep.Metrics = metrics(rep)
	for _, m := range rep.Metrics {
		for _, w := range m.Warnings {
			rep.Warnings = append(rep.Warnings, m.Name+": "+w)
		}
	}
	rep.ElapsedSecs = time.Since(start).Seconds()
	if err := write(cfg.OutDir, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// calibrationRequests is the work of a calibration leg: long enough for a
// rate within tens of percent (it sizes the legs; it measures nothing).
const calibrationRequests = 500

// size runs one calibration leg per side and returns the work that makes
// the faster side's measured legs last MinLegSeconds. Both sides get the
// same count: a comparison of different work is not a comparison.
func (c *Config) size(ctx context.Context, a, b *Side) (*Sizing, error) {
	sz := &Sizing{MinLegSeconds: c.MinLegSeconds}
	if sz.MinLegSeconds <= 0 {
		sz.MinLegSeconds = 3
	}
	limit := c.MaxRequests
	if limit <= 0 {
		limit = 40_000
	}
	if c.Load.Mode == load.Latency {
		// A fixed rate needs no calibration: the rate is the speed.
		sz.CalibrationA, sz.CalibrationB = float64(c.Load.Rate), float64(c.Load.Rate)
		sz.Requests = min(SizeWork(float64(c.Load.Rate), sz.MinLegSeconds), limit)
		return sz, nil
	}
	cal := *c
	cal.Load.Requests, cal.Reads, cal.StatsReaders, cal.ProcessCPU = calibrationRequests, 0, 0, false
	for _, side := range []*Side{a, b} {
		c.progress("calibrating the work per leg: %s (%s)", side.Name, side.Impl)
		leg, err := cal.measure(ctx, side, "calibrate-"+side.Name)
		if err != nil {
			return nil, err
		}
		if side == a {
			sz.CalibrationA = leg.Load.ReqPerSec
		} else {
			sz.CalibrationB = leg.Load.ReqPerSec
		}
	}
	sz.SlowLegSeconds = c.SlowLegSeconds
	if sz.SlowLegSeconds <= 0 {
		sz.SlowLegSeconds = 12
	}
	sz.Requests, sz.SlowCapped = SizePair(sz.CalibrationA, sz.CalibrationB, sz.MinLegSeconds, sz.SlowLegSeconds)
	if sz.Requests > limit {
		sz.Requests, sz.Capped = limit, true
	}
	if fast := max(sz.CalibrationA, sz.CalibrationB); fast > 0 {
		sz.FastSeconds = float64(sz.Requests) / fast
	}
	return sz, nil
}

// SizePair returns the work of every leg of a comparison of sides running
// at rates a and b: what makes the faster side last minLeg seconds, cut to
// what makes the slower one last about maxSlow seconds, but never below a
// second of the faster side's. slowCapped says the cut was made.
func SizePair(a, b, minLeg, maxSlow float64) (requests int, slowCapped bool) {
	fast, slow := max(a, b), min(a, b)
	n := SizeWork(fast, minLeg)
	if slow > 0 && maxSlow > 0 {
		if limit := max(SizeWork(slow, maxSlow), SizeWork(fast, 1)); n > limit {
			return limit, true
		}
	}
	return n, false
}

// SizeWork returns the requests that last seconds at perSec, with a quarter
// to spare (a calibration leg runs a little slower or faster than the
// measured ones), rounded up to a hundred, and never under 600, the
// fixed work labs used before.
func SizeWork(perSec, seconds float64) int {
	n := int(math.Ceil(perSec*seconds*1.25/100)) * 100
	return max(n, 600)
}

func (c *Config) fresh(ctx context.Context) error {
	// Every leg starts from an empty table, so no leg pays for another's rows.
	_, err := c.DB.Pool.Exec(ctx, "TRUNCATE events")
	return err
}

// measure runs one leg: fresh database, fresh server, warm-up, fixed work.
func (c *Config) measure(ctx context.Context, side *Side, name string) (Leg, error) {
	if err := c.fresh(ctx); err != nil {
		return Leg{}, err
	}
	audit := filepath.Join(c.OutDir, "audit-"+name+".log")
	srv, err := startServer(ctx, c.ServerBin, side.Stages, c.DB.URL, audit, false, side.Args...)
	if err != nil {
		return Leg{}, err
	}
	defer os.Remove(audit)
	leg, err := c.drive(ctx, srv, nil, c.Load.Requests)
	if stopErr := srv.stop(); err == nil {
		err = stopErr
	}
	if err == nil && side.DoesNothing() {
		leg.Rows, err = c.checkDidNothing(ctx, leg, audit)
	}
	return leg, err
}

// DoesNothing reports whether the side is the do-nothing server (-discard),
// a ceiling rather than a server.
func (s *Side) DoesNothing() bool { return slices.Contains(s.Args, "-discard") }

// checkDidNothing refuses a ceiling leg that did work: a "server that does
// nothing" that stored rows, wrote an audit record, talked to the database
// or fsync'd would be a server, and the ceiling it measured would bound
// nothing (one ran the whole fixed server for a week, unnoticed).
func (c *Config) checkDidNothing(ctx context.Context, leg Leg, audit string) (rows int64, err error) {
	if err := c.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&rows); err != nil {
		return 0, err
	}
	var problems []string
	if leg.Mode != "discard" {
		problems = append(problems, fmt.Sprintf("it says it is %q, not \"discard\"", leg.Mode))
	}
	if rows != 0 {
		problems = append(problems, fmt.Sprintf("%d rows stored", rows))
	}
	if leg.RoundTrips != 0 {
		problems = append(problems, fmt.Sprintf("%d database round trips", leg.RoundTrips))
	}
	if leg.Fsyncs != 0 {
		problems = append(problems, fmt.Sprintf("%d audit fsyncs", leg.Fsyncs))
	}
	if _, err := os.Stat(audit); err == nil {
		problems = append(problems, "an audit file written")
	}
	if len(problems) > 0 {
		return rows, fmt.Errorf("the do-nothing server did work over %d requests (%s): refusing it as a ceiling; see TestDiscardDoesNothing",
			leg.Load.Requests, strings.Join(problems, ", "))
	}
	return rows, nil
}

// drive sends the warm-up, then the measured requests, reading the runtime
// counters between; during, if set, runs alongside the measured requests.
//
// It is long on purpose: one leg's sequence (warm-up, counters, load,
// readers, reads), whose order decides what the counters cover.
func (c *Config) drive(ctx context.Context, srv *serverProc, during func(), requests int) (Leg, error) {
	spec := c.Load
	spec.Requests = requests
	spec.Target = srv.public
	if spec.Warmup > 0 {
		if _, err := load.Run(ctx, spec.WarmupSpec(), nil); err != nil {
			return Leg{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	before, err := srv.memStats(ctx)
	if err != nil {
		return Leg{}, err
	}
	spec.Warmup = 0
	// /proc is read only when asked: it walks every process on the machine.
	var cpuBefore cpuSnapshot
	if c.ProcessCPU {
		cpuBefore = takeCPU(srv.cmd.Process.Pid)
	}
	var wg sync.WaitGroup
	if during != nil {
		wg.Go(during)
	}
	// The /stats readers run exactly as long as the measured ingest.
	var statsRes *load.ReadersResult
	var statsErr error
	readersCtx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	if c.StatsReaders > 0 {
		wg.Go(func() {
			r, err := load.StatsReaders(readersCtx, srv.public, c.StatsReaders)
			statsRes, statsErr = &r, err
		})
	}
	last := time.Now()
	res, err := load.Run(ctx, spec, func(done, total int) {
		if time.Since(last) >= time.Second {
			last = time.Now()
			c.progress("  %d/%d requests", done, total)
		}
	})
	stopReaders()
	if err != nil {
		return Leg{}, err
	}
	var cpu *CPUUse
	if c.ProcessCPU {
		u := cpuUse(cpuBefore, takeCPU(srv.cmd.Process.Pid), res.Requests, res.Duration)
		cpu = &u
	}
	after, err := srv.memStats(ctx)
	wg.Wait()
	if err != nil {
		return Leg{}, err
	}
	if statsErr != nil {
		return Leg{}, fmt.Errorf("/stats readers: %w", statsErr)
	}
	if res.Succeeded != res.Requests {
		return Leg{}, fmt.Errorf("%d of %d requests failed (%v): a comparison of failing servers means nothing; server log:\n%s",
			res.Requests-res.Succeeded, res.Requests, res.Errors, srv.stderr)
	}
	var reads *load.Result
	if c.Reads > 0 {
		// The read path, over the rows the writes just stored. With a
		// warm-up of its own: a batch writer leaves the pool with a
		// connection or two, a store per request with one per client, and
		// timing the reads that open the rest would measure connection
		// setup, not the read path (lab 07's lesson measured both).
		r := spec
		r.Kind, r.Requests, r.Mode, r.Warmup = load.Recent, c.Reads, load.Capacity, c.Load.Warmup
		rr, err := load.Run(ctx, r, nil)
		if err != nil {
			return Leg{}, fmt.Errorf("reads: %w", err)
		}
		if rr.Succeeded != rr.Requests {
			return Leg{}, fmt.Errorf("%d of %d reads failed (%v)", rr.Requests-rr.Succeeded, rr.Requests, rr.Errors)
		}
		reads = &rr
	}
	return Leg{
		Reads:            reads,
		Load:             res,
		AllocsPerReq:     float64(after.Mallocs-before.Mallocs) / float64(res.Requests),
		GCCycles:         after.NumGC - before.NumGC,
		RoundTripsPerReq: float64(after.RoundTrips-before.RoundTrips) / float64(res.Requests),
		FsyncsPerReq:     float64(after.Fsyncs-before.Fsyncs) / float64(res.Requests),
		BytesPerReq:      float64(after.TotalAlloc-before.TotalAlloc) / float64(res.Requests),
		MutexWaitPerReq:  (after.Sched.MutexWait - before.Sched.MutexWait) * 1e6 / float64(res.Requests),
		Stats:            statsRes,
		CPU:              cpu,
		GoroutinesPerReq: float64(after.Sched.GoroutinesCreated-before.Sched.GoroutinesCreated) / float64(res.Requests),
		SchedP99:         after.Sched.Latencies.Sub(before.Sched.Latencies).Quantile(0.99) * 1e6,
		Mode:             after.Mode,
		RoundTrips:       after.RoundTrips - before.RoundTrips,
		Fsyncs:           after.Fsyncs - before.Fsyncs,
	}, nil
}

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

// profile runs the profiled legs for side: the same fixed work, with the
// profilers on. Their numbers stay out of the statistics.
func (c *Config) profile(ctx context.Context, side *Side) error {
	side.Profiles = map[string]string{}
	side.ProfileCoverage = 1
	for pass := range 2 {
		if err := c.profilePass(ctx, side, pass); err != nil {
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
		path := filepath.Join(c.OutDir, side.Name+"-sched.pb.gz")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		side.Profiles["sched"] = path
	}
	if c.Lab.Number == 0 {
		return nil // a comparison of whole configurations: no one stage
	}
	// The lab's own metric: the stage's share of the lab's profile.
	p, err := flame.Load(side.Profiles[c.Lab.Profile])
	if err != nil {
		return err
	}
	re := regexp.MustCompile("^" + regexp.QuoteMeta(c.Lab.Package(side.Impl)) + `\.`)
	side.StageShare, err = flame.FuncShare(p, re, sampleType[c.Lab.Profile])
	return err
}

// profilePass runs one profiled leg of side: pass 0 takes pprof's profiles
// (and a trace), pass 1 fgprof alone.
//
// It is long on purpose: the window's size, the profilers started together,
// the goroutine snapshot and the coverage check belong to one leg and share
// its timing.
func (c *Config) profilePass(ctx context.Context, side *Side, pass int) error {
	if err := c.fresh(ctx); err != nil {
		return err
	}
	audit := filepath.Join(c.OutDir, fmt.Sprintf("audit-%s-profiled%d.log", side.Name, pass))
	defer os.Remove(audit)
	srv, err := startServer(ctx, c.ServerBin, side.Stages, c.DB.URL, audit, pass == 0)
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
	least := c.ProfileWork
	if least <= 0 {
		least = 5
	}
	requests := c.Load.Requests
	if longest > 0 {
		perSec := float64(c.Load.Requests) / longest.Seconds()
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
		path := filepath.Join(c.OutDir, side.Name+"-"+kind+".pb.gz")
		if kind == "trace" {
			path = filepath.Join(c.OutDir, side.Name+".trace")
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
		for _, p := range profileKinds {
			if p.pass != pass {
				continue
			}
			sep := "?"
			if strings.Contains(p.path, "?") {
				sep = "&"
			}
			url := fmt.Sprintf("%s%sseconds=%d", p.path, sep, secs)
			wg.Go(func() { fetch(p.kind, url) })
		}
		if pass == 0 {
			if c.Trace {
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
					c.progress("  profile window: %ds of %ds", int(time.Since(windowStart).Seconds()), secs)
				}
			}
		}()
		wg.Wait()
		close(done)
	}
	leg, err := c.drive(ctx, srv, during, requests)
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

// MetricDef is one row of the before/after table: how to read it off a
// leg. MetricDefs is the one table of them: the reports, the claims page and
// the labs' Checks (labs.Check.Metric, held to it by a test) all name rows
// by Name.
type MetricDef struct {
	Name, Unit string
	Higher     bool              // higher is better
	Of         func(Leg) float64 // the leg's figure
	// Has reports whether a leg carries the figure (CPU only with
	// Config.ProcessCPU, /stats only with readers, reads only with Reads);
	// nil: every leg does.
	Has func(Leg) bool
}

// StageShare is the name of the one figure that is not a row of
// MetricDefs: the stage's share of the lab's profile, from the profiled
// legs.
const StageShare = "stage share"

var (
	hasCPU   = func(l Leg) bool { return l.CPU != nil }
	hasStats = func(l Leg) bool { return l.Stats != nil }
	hasReads = func(l Leg) bool { return l.Reads != nil }
)

// MetricDefs are the rows, in the order the reports print them.
var MetricDefs = []MetricDef{
	{"throughput", "req/s", true, func(l Leg) float64 { return l.Load.ReqPerSec }, nil},
	{"latency p50", "ms", false, func(l Leg) float64 { return ms(l.Load.P50) }, nil},
	{"latency p99", "ms", false, func(l Leg) float64 { return ms(l.Load.P99) }, nil},
	{"allocations", "per request", false, func(l Leg) float64 { return l.AllocsPerReq }, nil},
	{"allocated bytes", "per request", false, func(l Leg) float64 { return l.BytesPerReq }, nil},
	{"GC cycles", "per leg", false, func(l Leg) float64 { return float64(l.GCCycles) }, nil},
	{"database round trips", "per request", false, func(l Leg) float64 { return l.RoundTripsPerReq }, nil},
	{"audit fsyncs", "per request", false, func(l Leg) float64 { return l.FsyncsPerReq }, nil},
	{"goroutines created", "per request", false, func(l Leg) float64 { return l.GoroutinesPerReq }, nil},
	{"scheduler latency p99", "µs", false, func(l Leg) float64 { return l.SchedP99 }, nil},
	{"mutex wait", "µs per request", false, func(l Leg) float64 { return l.MutexWaitPerReq }, nil},
	{"server CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.ServerMS }, hasCPU},
	{"Postgres CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.PostgresMS }, hasCPU},
	{"load generator CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.LoadMS }, hasCPU},
	{"cores busy", "share of all", false, func(l Leg) float64 { return l.CPU.Busy }, hasCPU},
	{"/stats latency p99", "ms", false, func(l Leg) float64 { return ms(l.Stats.P99) }, hasStats},
	{"/stats reads", "per leg", true, func(l Leg) float64 { return float64(l.Stats.Reads) }, hasStats},
	{"read throughput", "req/s", true, func(l Leg) float64 { return l.Reads.ReqPerSec }, hasReads},
	{"read latency p99", "ms", false, func(l Leg) float64 { return ms(l.Reads.P99) }, hasReads},
}

// MetricNamed returns the row called name, or false.
func MetricNamed(name string) (MetricDef, bool) {
	for _, d := range MetricDefs {
		if d.Name == name {
			return d, true
		}
	}
	return MetricDef{}, false
}

func metrics(rep *Report) []Metric {
	col := func(s *Side, f func(Leg) float64) []float64 {
		out := make([]float64, len(s.Legs))
		for i, l := range s.Legs {
			out[i] = f(l)
		}
		return out
	}
	var out []Metric
	for _, d := range MetricDefs {
		if d.Has != nil && (len(rep.A.Legs) == 0 || !d.Has(rep.A.Legs[0])) {
			continue
		}
		m := Metric{Name: d.Name, Unit: d.Unit, HigherIsBetter: d.Higher, A: col(rep.A, d.Of), B: col(rep.B, d.Of)}
		if r, err := compare.Pairs(m.A, m.B); err == nil {
			m.Result = r
		} else {
			m.Result = compare.Result{MedianA: median(m.A), MedianB: median(m.B), P: 1}
			m.NoRatio = true
			m.Warnings = append(m.Warnings, err.Error())
		}
		out = append(out, m)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
