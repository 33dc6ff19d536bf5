// Package runner is the engine behind make lab-N and make capstone: it runs
// the server in its own process, drives it with the load generator and
// reads what happened, and compares two servers fairly.
//
// A Bench is the engine: a built server binary, a database and a directory
// for the artefacts. Its methods are the steps every measurement is made
// of:
//
//	Leg       one measured run of a fixed amount of work: a fresh table,
//	          a fresh server, a warm-up, the work, the server's counters
//	Profile   the profiled legs of a side (pprof's profiles, then fgprof),
//	          outside the statistics, because profilers cost the server time
//	Compare   two sides over the same work, alternating A B, B A, ..., then
//	          profiled, rendered and judged (Mann-Whitney U over the pairs)
//
// Run is make lab-N: a Compare of the server with one lab's stage at its
// baseline against the same server with the lab's candidate, every other
// stage fixed. The capstone (labs/internal/capstone) composes the same
// steps into waterfalls, ceilings and a sweep.
package runner

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/compare"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is one make lab-N run: which lab, which candidate, how measured,
// on which bench.
type Config struct {
	Bench     *Bench
	Lab       *labs.Lab
	Candidate labs.Impl // side B; side A is always the baseline
	Options
}

// Run compares lab cfg.Lab's baseline with its candidate, every other
// lab's stage at its solution on both sides, and writes every artefact to
// cfg.Bench.OutDir.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	l := cfg.Lab
	a := &Side{Name: "before", Impl: labs.Baseline, Stages: stagesFor(l.Number, labs.Baseline), Stage: l.Watched(labs.Baseline)}
	b := &Side{Name: "after", Impl: cfg.Candidate, Stages: stagesFor(l.Number, cfg.Candidate), Stage: l.Watched(cfg.Candidate)}
	if l.Sweeps {
		// Both sides record, so each leg's snapshots count its slow
		// requests alike; the snapshots go beside the report.
		for _, s := range []*Side{a, b} {
			s.Args = append(s.Args, "-flight-recorder", FlightSlow.String(), "-flight-every", FlightEvery.String(), "-flight-dir", filepath.Join(cfg.Bench.OutDir, "flight-"+s.Name))
		}
	}
	return cfg.Bench.Compare(ctx, Comparison{
		Title: fmt.Sprintf("lab %d (%s)", l.Number, l.Slug),
		Lab:   l.Number, Slug: l.Slug, Trick: l.Trick, Claim: l.Claim, Profile: l.Profile,
		A: a, B: b,
		Options: cfg.Options,
	})
}

// FlightSlow is the request duration that makes a sweeping lab's server
// (labs.Lab.Sweeps) write a flight-recorder snapshot: well over the
// fixed server's p99 at the lab's rate on a quiet machine, well under a
// request that waited for the baseline's sweep.
const FlightSlow = 50 * time.Millisecond

// FlightEvery is the least time between two snapshots in a sweeping lab's
// legs: short, so a slow start-up's snapshot does not keep the sweep's
// out, and the count says in how many seconds requests were slow.
const FlightEvery = time.Second

// stagesFor returns the -stages value where lab n runs impl and every
// other lab its solution, but a lab that extends n's stage (Lab.Extends) its
// baseline: a lab's two servers differ only in its stage, and its after
// side is its fix as it wrote it.
func stagesFor(n int, impl labs.Impl) string {
	c := labs.Fix(labs.StagedNumbers()...)
	for _, l := range labs.Staged() {
		if l.Extends == n {
			c[l.Number] = labs.Baseline
		}
	}
	c[n] = impl
	return c.Flag()
}

// Side is one of the two servers being compared.
type Side struct {
	Name   string // "before" (A) or "after" (B)
	Impl   labs.Impl
	Stages string // the -stages flag it ran with
	// Bin is the server binary this side runs; empty: the bench's
	// ServerBin. Lab 9 compares two builds of one source; Build says how
	// this one was built (e.g. "go build -pgo=off").
	Bin   string   `json:",omitempty"`
	Build string   `json:",omitempty"`
	Args  []string // more flags for the server, e.g. -discard for the HTTP ceiling
	// Stage is the import path of the stage under study on this side: its
	// share of the comparison's teaching profile is StageShare. Empty for
	// a comparison of whole configurations (the capstone's).
	Stage string `json:",omitempty"`
	Legs  []Leg
	// From the profiled legs, which are not part of the statistics.
	Profiles map[string]string // kind ("cpu", "fgprof", ...) -> .pb.gz path
	// StageShare is the stage's share of the lab's profile: a measured
	// figure (the tests turn such shares into budgets; this is not one).
	StageShare flame.Share
}

// Leg is one measured run of the fixed work.
type Leg struct {
	Load             load.Result
	AllocsPerReq     float64
	GCCycles         uint32
	RoundTripsPerReq float64 // database round trips per request
	FsyncsPerReq     float64 // audit fsyncs per request
	// CopiesInFlight is the mean number of COPYs in flight over the leg:
	// the seconds spent in them, over all connections, divided by the
	// leg's length (Little's law). A batching store's batches in flight.
	CopiesInFlight   float64
	BytesPerReq      float64             // bytes allocated per request
	MutexWaitPerReq  float64             // µs goroutines spent blocked on mutexes, per request
	Stats            *load.ReadersResult // the /stats readers, when the lab has them
	CPU              *CPUUse             // with Work.ProcessCPU
	GoroutinesPerReq float64             // goroutines the server created per request (runtime/metrics)
	SchedP99         float64             // p99 of the time goroutines waited runnable, over the leg, in µs
	Reads            *load.Result        // the read phase, when the lab has one
	Mode             string              // what the server said it is: "server", or "discard"
	RoundTrips       int64               // database round trips over the leg, all told
	Fsyncs           int64               // audit fsyncs over the leg, all told
	Rows             int64               // events rows after a do-nothing leg (checkDidNothing counts them); 0 otherwise
	Sweep            *Sweep              // the key sweep in the leg (Work.SweepKeys); nil: none
	Snapshots        int64               // the flight recorder's snapshots over the leg (-flight-recorder)
}

// Report is everything a run found; it is also written as report.json.
type Report struct {
	Title    string // "lab 6 (06-parsing)", or "capstone": what the pages and tables are headed
	Lab      int    // the lab's number; with Slug, Trick and Claim the report's header
	Slug     string
	Trick    string
	Claim    string
	Profile  string // the lab's teaching profile
	Started  time.Time
	Commit   string // the code measured, when known
	Machine  string
	Database string
	Load     load.Spec
	Pairs    int
	// ProfileSeconds is the window of each profiled leg, which the load
	// fills.
	ProfileSeconds int
	A, B           *Side
	Metrics        []Metric          // before/after table
	Tops           map[string]string // "before cpu" -> pprof top 10
	Flamegraphs    map[string]string // title -> HTML file, relative to OutDir
	Warnings       []string
	ElapsedSecs    float64
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
	return fmt.Sprintf("one database round trip (SELECT 1 on one connection, %d times): median %s µs, p90 %s µs", rt.Samples, Num(rt.Median), Num(rt.P90))
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
	return &RoundTrip{Samples: n, Median: Median(times), P90: times[len(times)*9/10]}, nil
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
		Num(s.CalibrationA), Num(s.CalibrationB), s.Requests, s.MinLegSeconds)
	if s.SlowCapped {
		out = fmt.Sprintf("legs sized by the runner: calibration legs (outside the statistics) ran %s and %s req/s; %d requests make the slower side's legs last about %.0f s and the faster side's about %.1f s (the sides differ so much that %.0f s of the faster side would keep the slower one busy for minutes)",
			Num(s.CalibrationA), Num(s.CalibrationB), s.Requests, s.SlowLegSeconds, s.FastSeconds, s.MinLegSeconds)
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
