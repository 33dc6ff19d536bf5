// Package labs lists flamelab's labs and assembles a server from one
// implementation of each lab's stage.
//
// Every lab owns one stage of the server (see server.Stages) and has up to
// three implementations of it, each in its own directory:
//
//	labs/NN-slug/baseline   the slow code the server ships; never edited
//	labs/NN-slug/exercise   the learner's copy, reset with make reset-N
//	labs/NN-slug/solution   the reference fix
//
// A Choice picks one implementation per lab, so the same binary runs the slow
// server, the fixed one, or any mix.
//
// # A broken exercise breaks only its own lab
//
// No exercise is linked into a default build: package labs/exercises links
// lab N's under the build tag flamelab_exerciseN (Lab.ExerciseTag), set only
// by the commands that concern lab N. Its package doc says why.
package labs

import (
	"fmt"
	"strings"

	"github.com/flamelab/flamelab/server"

	enrich "github.com/flamelab/flamelab/labs/01-goroutines/baseline"
	enrichsolution "github.com/flamelab/flamelab/labs/01-goroutines/solution"
	body "github.com/flamelab/flamelab/labs/02-buffers/baseline"
	bodysolution "github.com/flamelab/flamelab/labs/02-buffers/solution"
	stats "github.com/flamelab/flamelab/labs/03-locks/baseline"
	statssolution "github.com/flamelab/flamelab/labs/03-locks/solution"
	encode "github.com/flamelab/flamelab/labs/04-copies/baseline"
	encodesolution "github.com/flamelab/flamelab/labs/04-copies/solution"
	audit "github.com/flamelab/flamelab/labs/05-blocking/baseline"
	auditsolution "github.com/flamelab/flamelab/labs/05-blocking/solution"
	parse "github.com/flamelab/flamelab/labs/06-parsing/baseline"
	parsesolution "github.com/flamelab/flamelab/labs/06-parsing/solution"
	store "github.com/flamelab/flamelab/labs/07-batching/baseline"
	storesolution "github.com/flamelab/flamelab/labs/07-batching/solution"
	pipeline "github.com/flamelab/flamelab/labs/08-pipeline/baseline"
	pipelinesolution "github.com/flamelab/flamelab/labs/08-pipeline/solution"
	pgo "github.com/flamelab/flamelab/labs/09-pgo/baseline"
	pgosolution "github.com/flamelab/flamelab/labs/09-pgo/solution"
	sweep "github.com/flamelab/flamelab/labs/10-production/baseline"
	sweepsolution "github.com/flamelab/flamelab/labs/10-production/solution"
	"github.com/google/pprof/profile"
)

// Lab describes one lab.
type Lab struct {
	Number int
	Slug   string // directory under labs/, e.g. "06-parsing"
	// Stage is the server.Stages field the lab owns. Its lower-cased name
	// names the lab's correctness tests: <stage>_test.go (labs/README.md).
	Stage string
	Trick string // the article's trick, in a few words
	Claim string // the article's claimed result, quoted in every report
	// Checks are the claim as numbers a report can confirm or not: the
	// report's metric, and the after/before ratio the article claims.
	Checks []Check
	// Profile is the profile that shows this lab's slow spot: "cpu",
	// "fgprof" (wall clock), "allocs" or "mutex". make lab-N reports the
	// stage's share of it as the lab's budget metric.
	Profile string
	// Trace: make lab-N also captures an execution trace per side, for
	// what only a trace shows (lab 1: goroutines that live microseconds).
	Trace bool
	// StatsReaders: make lab-N runs GET /stats readers beside the ingest
	// load, one of them slow, and reports /stats latency (lab 3).
	StatsReaders bool
	// Reads: the stage is on the read path too (GET /users/{id}/events), so
	// make lab-N also measures reads after each leg's writes.
	Reads bool
	// RaceFreeBudgets: one of the lab's budgets cannot be judged under the
	// race detector (see labtest.NeedsNoRace), so make check-N judges the
	// budgets in a pass without -race before the correctness pass with it.
	RaceFreeBudgets bool
	// ProcessCPU: make lab-N also measures each process's CPU per request
	// and how busy the cores are (lab 8: is the server waiting, or out of
	// cores?).
	ProcessCPU bool
	// Sweeps: make lab-N fills the requests table with day-old
	// Idempotency-Keys before each leg and has the server sweep them in
	// the middle of it, at a constant rate, with the flight recorder on
	// (lab 10: a spike that happens once an hour).
	Sweeps bool
	// Extends is the lab whose solution this lab's stage runs inside (lab
	// 8's pipeline runs lab 7's batches), or 0. That lab's own comparison
	// keeps this one at its baseline: its after side is its fix as it wrote
	// it, not a later lab's. And this lab's report shows the share of its
	// profile in that lab's solution, not in its own stage: lab 8's
	// pipeline spends its time in lab 7's store, and the requests wait
	// there for it (Watched).
	Extends int

	build map[Impl]Builder
	pgo   map[Impl]PGOMerge
}

// PGOMerge is lab 9's implementation, which is not a stage: it turns CPU
// profiles of the server under load into the profile the server is built
// with (go build -pgo); nil for none, a build with -pgo=off.
type PGOMerge func(captures []*profile.Profile) (*profile.Profile, error)

// PGO returns the lab's PGOMerge for impl, or an error if it has none, or
// its exercise is not linked into this binary.
func (l *Lab) PGO(impl Impl) (PGOMerge, error) {
	if l.pgo == nil {
		return nil, fmt.Errorf("lab %d (%s) builds no profile", l.Number, l.Slug)
	}
	if m, ok := l.pgo[impl]; ok {
		return m, nil
	}
	return nil, fmt.Errorf("lab %d's %s is not linked into this binary: build it with -tags %s (make lab-%d IMPL=%s does)", l.Number, impl, l.ExerciseTag(), l.Number, impl)
}

// BuildsProfile reports whether the lab's implementations build the
// server's PGO profile (lab 9) rather than a stage or a benchmark.
func (l *Lab) BuildsProfile() bool { return l.pgo != nil }

// LinkPGO adds lab n's PGOMerge for impl; package labs/exercises calls it
// from init, in the file of a lab whose exercise tag is set.
func LinkPGO(n int, impl Impl, m PGOMerge) {
	l, err := ByNumber(n)
	if err != nil {
		panic(err)
	}
	l.pgo[impl] = m
}

// Check is one number of an article's claim: the report metric it is
// about (its name in the report table) and the after/before ratio claimed,
// e.g. 0.3 for "-70%", 2 for "2x throughput".
type Check struct {
	Metric string
	Ratio  float64
	// LessMS, for a claim in milliseconds rather than a ratio: the least
	// the metric must fall by.
	LessMS float64
}

// Builder sets the lab's stage in s from env.
type Builder func(env Env, s *server.Stages) error

// Link adds the wiring of one implementation of lab n's stage; package
// labs/exercises calls it from init, in the file of a lab whose exercise
// tag is set.
func Link(n int, impl Impl, b Builder) {
	l, err := ByNumber(n)
	if err != nil {
		panic(err)
	}
	l.build[impl] = b
}

// ExerciseTag is the build tag that links the lab's exercise into the
// server, e.g. flamelab_exercise6.
func (l *Lab) ExerciseTag() string { return fmt.Sprintf("flamelab_exercise%d", l.Number) }

// Impls lists the implementations this lab has, in the order
// baseline, exercise, solution.
func (l *Lab) Impls() []Impl {
	var out []Impl
	for _, impl := range []Impl{Baseline, Exercise, Solution} {
		if l.Has(impl) {
			out = append(out, impl)
		}
	}
	return out
}

// Has reports whether the lab has impl, linked into this binary or not.
func (l *Lab) Has(impl Impl) bool {
	if l.Stage == "" {
		return true // lab 0's three are benchmarks, lab 9's profile builders: all there by the shape
	}
	if impl == Exercise {
		// Every lab with a stage has an exercise of it (labs/README.md's
		// shape); its wiring is linked only under ExerciseTag.
		return l.Has(Baseline)
	}
	_, ok := l.build[impl]
	return ok
}

// All is the labs, in order: lab 00, about the instrument (it has no stage:
// its baseline, exercise and solution are benchmarks), then one lab per
// stage of the server.
var All = []*Lab{
	{Number: 0, Slug: "00-measure", Trick: "measure the instrument first: noise, benchmarks that lie, closed and open loops, the load generator's ceiling",
		Claim: "always measure before optimising"},
	{Number: 1, Slug: "01-goroutines", Stage: "Enricher", Trick: "batch tiny tasks instead of a goroutine per item",
		Claim: "scheduler overhead -70%, latency 5x lower", Profile: "cpu", Trace: true,
		Checks: []Check{{Metric: "scheduler latency p99", Ratio: 0.3}, {Metric: "latency p50", Ratio: 0.2}},
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.Enricher = enrich.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error { s.Enricher = enrichsolution.New(); return nil },
		}},
	{Number: 2, Slug: "02-buffers", RaceFreeBudgets: true, Stage: "BodyReader", Trick: "no copies of request buffers",
		Claim: "allocations -60%, throughput 2x", Profile: "allocs",
		Checks: []Check{{Metric: "allocations", Ratio: 0.4}, {Metric: "throughput", Ratio: 2}},
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.BodyReader = body.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error { s.BodyReader = bodysolution.New(); return nil },
		}},
	{Number: 3, Slug: "03-locks", StatsReaders: true, Stage: "Stats", Trick: "no global lock held while working",
		Claim: "thread blocking -50%", Profile: "mutex",
		Checks: []Check{{Metric: "mutex wait", Ratio: 0.5}},
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.Stats = stats.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error { s.Stats = statssolution.New(); return nil },
		}},
	{Number: 4, Slug: "04-copies", RaceFreeBudgets: true, Stage: "Encoder", Trick: "audit copies and allocations",
		Claim: "3x throughput, less GC", Profile: "allocs", Reads: true,
		Checks: []Check{{Metric: "throughput", Ratio: 3}, {Metric: "GC cycles", Ratio: 0.99}},
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.Encoder = encode.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error { s.Encoder = encodesolution.New(); return nil },
		}},
	{Number: 5, Slug: "05-blocking", Stage: "Auditor", Trick: "never block the request path",
		Claim: "latency -10 to 20 ms per request", Profile: "fgprof",
		Checks: []Check{{Metric: "latency p50", LessMS: 10}},
		build: map[Impl]Builder{
			Baseline: func(env Env, s *server.Stages) error {
				return OpenAudit(env, s, func(f AuditFile) server.Auditor { return audit.New(f) })
			},
			Solution: func(env Env, s *server.Stages) error {
				return OpenAudit(env, s, func(f AuditFile) server.Auditor { return auditsolution.New(f, auditsolution.Options{}) })
			},
		}},
	{Number: 6, Slug: "06-parsing", RaceFreeBudgets: true, Stage: "Parser", Trick: "a flamegraph finds the parser; memchr fixes it",
		Claim: "the parser's CPU halved (it was 40%)", Profile: "cpu",
		Checks: []Check{{Metric: "stage share", Ratio: 0.5}},
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.Parser = parse.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error { s.Parser = parsesolution.New(); return nil },
		}},
	{Number: 7, Slug: "07-batching", Stage: "Store", Trick: "batch database inserts and queries",
		Claim: "1,000 -> 30,000 req/s (30x)", Profile: "fgprof", Reads: true,
		Checks: []Check{{Metric: "throughput", Ratio: 30}},
		build: map[Impl]Builder{
			Baseline: func(env Env, s *server.Stages) error { s.Store = store.New(env.Pool); return nil },
			Solution: func(env Env, s *server.Stages) error {
				// s.Pipeline is lab 8's, built first (see Build).
				s.Store = storesolution.New(env.Pool, storesolution.Options{Timeout: env.DBTimeout, Pipeline: s.Pipeline})
				return nil
			},
		}},
	{Number: 8, Slug: "08-pipeline", Stage: "Pipeline", Extends: 7, ProcessCPU: true,
		Trick: "past the article: more than one batch in flight (Little's law, a commit pipeline)",
		Claim: "not the article's: our goal is 1.3x req/s at 32 clients, the fixed server at 60% of the COPY ceiling", Profile: "fgprof",
		build: map[Impl]Builder{
			Baseline: func(_ Env, s *server.Stages) error { s.Pipeline = pipeline.New(); return nil },
			Solution: func(_ Env, s *server.Stages) error {
				s.Pipeline = pipelinesolution.New(pipelinesolution.Options{})
				return nil
			},
		}},
	{Number: 9, Slug: "09-pgo", ProcessCPU: true, Profile: "cpu",
		Trick: "past the article: profile-guided optimisation, the fixed server built with its own CPU profile",
		Claim: "not the article's: the Go team reports 2-14% for typical programs",
		pgo:   map[Impl]PGOMerge{Baseline: pgo.Merge, Solution: pgosolution.Merge}},
	{Number: 10, Slug: "10-production", Stage: "Sweeper", Profile: "cpu", Sweeps: true,
		Trick: "past the article: the p99 spike a CPU profile averages away, caught by the flight recorder; profiler labels per stage",
		Claim: "not the article's: our goal is the sweep's p99 spike gone at a constant rate, and the recorder's snapshot naming its cause",
		build: map[Impl]Builder{
			Baseline: func(env Env, s *server.Stages) error { s.Sweeper = sweep.New(env.Pool); return nil },
			Solution: func(env Env, s *server.Stages) error {
				s.Sweeper = sweepsolution.New(env.Pool, sweepsolution.Options{})
				return nil
			},
		}},
}

// Watched is the package whose share of the lab's profile make lab-N
// reports for impl: the stage's own package, or for a lab that extends
// another's stage (Extends) that lab's solution, where its time goes.
func (l *Lab) Watched(impl Impl) string {
	if ext, err := ByNumber(l.Extends); l.Extends != 0 && err == nil {
		return ext.Package(Solution)
	}
	return l.Package(impl)
}

// TestFile is the lab's correctness tests' file: <stage>_test.go, or for a
// lab without a stage its slug's word, e.g. measure_test.go.
func (l *Lab) TestFile() string {
	if l.Stage == "" {
		_, word, _ := strings.Cut(l.Slug, "-")
		return word + "_test.go"
	}
	return strings.ToLower(l.Stage) + "_test.go"
}

// Path is the lab's directory, relative to the repository root.
func (l *Lab) Path() string { return "labs/" + l.Slug }

// Package is the import path of one implementation of the lab's stage; its
// functions in a profile all start with it.
func (l *Lab) Package(impl Impl) string {
	return "github.com/flamelab/flamelab/labs/" + l.Slug + "/" + string(impl)
}

// ByNumber returns lab n.
func ByNumber(n int) (*Lab, error) {
	for _, l := range All {
		if l.Number == n {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no lab %d: the labs are %s", n, Range())
}

// Range says which lab numbers there are, for flag help and errors, from
// All: "1 to 7", or with gaps "0 to 7, 9 and 99".
func Range() string {
	var runs []string
	ns := Numbers()
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		switch {
		case j == i:
			runs = append(runs, fmt.Sprint(ns[i]))
		case j == i+1:
			runs = append(runs, fmt.Sprint(ns[i]), fmt.Sprint(ns[j]))
		default:
			runs = append(runs, fmt.Sprintf("%d to %d", ns[i], ns[j]))
		}
		i = j + 1
	}
	if len(runs) < 2 {
		return strings.Join(runs, "")
	}
	return strings.Join(runs[:len(runs)-1], ", ") + " and " + runs[len(runs)-1]
}

// ByStage returns the lab that owns the server.Stages field stage (e.g.
// "Auditor"), so code that is about one stage need not know its number.
func ByStage(stage string) *Lab {
	for _, l := range All {
		if l.Stage == stage {
			return l
		}
	}
	panic("labs: no lab owns stage " + stage)
}
