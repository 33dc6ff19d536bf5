package capstone

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

// What limits the fixed server is measured, not guessed: the machine's
// ceilings for the same work, where its requests spend their wall clock,
// and one experiment per suspect, each a configuration of the round robin.

// Experiment is one configuration that removes one suspect from the fixed
// server, measured in the round robin beside it.
type Experiment struct {
	Name    string   // the round robin's key
	Suspect string   // what it tests, for people
	Args    []string // more server flags
	// Combined: it removes several suspects at once; the limiter is named
	// from the single ones, the combination said beside it.
	Combined bool `json:",omitempty"`
	// CommitFlushOff runs the leg without the database's commit flush
	// (synchronous_commit=off, reset after the leg; see setCommitFlush).
	CommitFlushOff bool
	RPS            []float64
	Median         float64
	// Skipped says why it was not measured (a database that is not
	// flamelab's own is never reconfigured); empty when it was.
	Skipped string `json:",omitempty"`
}

// experiments are the capstone's suspects, in the order the report lists
// them.
func experiments() []Experiment {
	return []Experiment{
		{Name: "experiment: database commit flush off", Suspect: "the database's commit flush (the WAL fsync a commit waits for)", CommitFlushOff: true},
		{Name: "experiment: audit fsync off", Suspect: "the audit trail's fsyncs (group commit)", Args: []string{"-experiment-no-audit-fsync"}},
		{Name: "experiment: both fsyncs off", Suspect: "the disk, both flushes", Args: []string{"-experiment-no-audit-fsync"}, CommitFlushOff: true, Combined: true},
	}
}

// setCommitFlush turns the wait for the WAL flush at commit off
// (synchronous_commit=off for the run's database, which new sessions, so
// each leg's server, pick up) or back to the server's setting. fsync itself
// is fixed on the server's command line (postgres.Durable), which outranks
// ALTER SYSTEM; synchronous_commit=off removes exactly the flush a commit
// waits for, while the WAL writer still flushes in the background. Only on
// a database flamelab started for this run: someone's own database is never
// reconfigured.
func setCommitFlush(ctx context.Context, db *postgres.Database, on bool) error {
	if db.Source == postgres.SourceURL {
		return fmt.Errorf("the database is yours (%s): flamelab does not change its settings", postgres.EnvDatabaseURL)
	}
	stmt, want := "SET synchronous_commit = off", "off"
	if on {
		stmt, want = "RESET synchronous_commit", "on"
	}
	if _, err := db.Pool.Exec(ctx, fmt.Sprintf("DO $$ BEGIN EXECUTE format('ALTER DATABASE %%I %s', current_database()); END $$", stmt)); err != nil {
		return fmt.Errorf("ALTER DATABASE %s: %w", stmt, err)
	}
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var got string
	if err := conn.QueryRow(ctx, "SHOW synchronous_commit").Scan(&got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("a new session has synchronous_commit=%s after ALTER DATABASE %s, want %s", got, stmt, want)
	}
	return nil
}

// measureExperiment runs one leg of e on the all-solution server.
func measureExperiment(ctx context.Context, b *runner.Bench, w runner.Work, e *Experiment, name string) (runner.Leg, error) {
	if e.CommitFlushOff {
		if err := setCommitFlush(ctx, b.DB, false); err != nil {
			return runner.Leg{}, err
		}
		defer func() { _ = setCommitFlush(context.WithoutCancel(ctx), b.DB, true) }()
	}
	return b.Leg(ctx, &runner.Side{Name: name, Stages: stagesOf(labs.StagedNumbers()), Args: e.Args}, w, name)
}

// WallClock is where the fixed server's requests spend their wall-clock
// time, from its fgprof profile (the headline comparison's after side):
// each stage's share of the request handler, and how busy the two
// goroutines that every request waits for were.
type WallClock struct {
	Window  time.Duration // the profile's length
	Handler float64       // goroutine-seconds in the handler per second of window: requests in flight, on average
	Stages  []StageWall   // in the server's order of steps
	Rest    float64       // the handler's share outside every stage: HTTP, routing, the server's own code
	// Writers: the batch writer (lab 7, its batches run by lab 8's
	// pipeline) and the audit writer (lab 5): how many flushes each had
	// in flight on average.
	Writers []WriterWall
}

// StageWall is one stage's share of the handler's wall clock.
type StageWall struct {
	Lab   int
	Slug  string
	Share float64
}

// WriterWall is how busy one writer was.
type WriterWall struct {
	What string // "batch writer (lab 7: COPY and commit)"
	Unit string // what it flushes: "batches"
	// InFlight is the goroutine-seconds spent in its flush per second of
	// its loop's life: the mean number of flushes in flight (Little's
	// law). For a writer that flushes on its own goroutine, one at a
	// time, it is the share of its time it was working; lab 8's pipeline
	// runs flushes on goroutines of their own, several at once.
	InFlight float64
}

// stepOrder is the order of the server's steps (server.Server.ServeHTTP):
// read, parse, enrich, store, statistics, audit record, audit, response.
var stepOrder = []int{2, 6, 1, 7, 3, 4, 5}

// writers are the single goroutines requests wait for, and the frame in
// which each works: the rest of its time it waits for work.
var writers = []struct {
	lab          int
	what, unit   string
	loop, flushF string
}{
	{7, "batch writer (lab 7's solution: gathers requests, then COPY and commit, as many at once as lab 8's pipeline allows)", "batches", `.(*Store).writer`, `.(*Store).flush`},
	{5, "audit writer (lab 5's solution: gathers records, then write and fsync)", "fsync groups", `.(*Auditor).writer`, `.(*Auditor).commit`},
}

// WallClockOf reads p, the fixed server's fgprof profile.
func WallClockOf(p *profile.Profile) (*WallClock, error) {
	h, err := flame.FuncShare(p, handler, "time")
	if err != nil {
		return nil, err
	}
	w := &WallClock{Window: time.Duration(p.DurationNanos)}
	if w.Window > 0 {
		w.Handler = float64(h.Total) * h.Cum / float64(w.Window)
	}
	// Shares of the handler: of the samples with the handler on their
	// stack only (a stage's own goroutines, its writers, are not a
	// request's time).
	inHandler := under(p, handler)
	rest := 1.0
	for _, n := range stepOrder {
		l, _ := labs.ByNumber(n)
		s, err := flame.FuncShare(inHandler, regexp.MustCompile("^"+regexp.QuoteMeta(l.Package(labs.Solution))+`\.`), "time")
		if err != nil {
			return nil, err
		}
		w.Stages = append(w.Stages, StageWall{Lab: n, Slug: l.Slug, Share: s.Cum})
		rest -= s.Cum
	}
	w.Rest = max(rest, 0)
	for _, wr := range writers {
		l, _ := labs.ByNumber(wr.lab)
		pkg := regexp.QuoteMeta(l.Package(labs.Solution))
		loop, err := flame.FuncShare(p, regexp.MustCompile("^"+pkg+regexp.QuoteMeta(wr.loop)+"$"), "time")
		if err != nil {
			return nil, err
		}
		busy, err := flame.FuncShare(p, regexp.MustCompile("^"+pkg+regexp.QuoteMeta(wr.flushF)+"$"), "time")
		if err != nil {
			return nil, err
		}
		if loop.Cum > 0 {
			w.Writers = append(w.Writers, WriterWall{What: wr.what, Unit: wr.unit, InFlight: busy.Cum / loop.Cum})
		}
	}
	return w, nil
}

// spread is max/min of v, 1 when there is nothing to compare.
func spread(v []float64) float64 {
	if len(v) < 2 || slices.Min(v) <= 0 {
		return 1
	}
	return slices.Max(v) / slices.Min(v)
}

// implausible returns the warnings a report must print at its top: a
// server that beats the do-nothing server beyond the ceiling's spread, or
// a ceiling slower than what it bounds. Each is a bug until explained.
func (cs *Result) implausible() []string {
	var out []string
	if len(cs.HTTP) > 0 {
		top := slices.Max(cs.HTTP)
		seen := map[string]bool{}
		for _, steps := range [][]Step{cs.Article, cs.Profiled, cs.Ablation} {
			for _, s := range steps {
				if !seen[s.Stages] && s.Median > top {
					seen[s.Stages] = true
					out = append(out, fmt.Sprintf("%s (%s req/s) is faster than the do-nothing server's best leg (%s req/s): the ceiling is not a ceiling", s.Stages, runner.Num(s.Median), runner.Num(top)))
				}
			}
		}
		for _, e := range cs.Experiments {
			if e.Median > top {
				out = append(out, fmt.Sprintf("%s (%s req/s) is faster than the do-nothing server's best leg (%s req/s)", e.Name, runner.Num(e.Median), runner.Num(top)))
			}
		}
	}
	for _, p := range cs.Sweep {
		if p.HTTP > 0 && p.Solution > 1.1*p.HTTP {
			out = append(out, fmt.Sprintf("at %d clients the fixed server (%s req/s) beat the do-nothing server (%s req/s) by more than 10%%", p.Workers, runner.Num(p.Solution), runner.Num(p.HTTP)))
		}
	}
	if len(cs.CopyReqs) > 0 && cs.Final > slices.Max(cs.CopyReqs) {
		out = append(out, fmt.Sprintf("the fixed server (%s req/s) is faster than the database's COPY of the same rows (%s req/s at best): that ceiling does not bound it", runner.Num(cs.Final), runner.Num(slices.Max(cs.CopyReqs))))
	}
	if cs.CPUBudget > 0 && cs.Final > 1.1*cs.CPUBudget {
		out = append(out, fmt.Sprintf("the fixed server (%s req/s) is faster than its CPU budget allows (%s req/s): the CPU per request comes from /proc's 10 ms ticks over the headline's legs, too coarse for legs this short, or the headline legs ran slower than the round robin's", runner.Num(cs.Final), runner.Num(cs.CPUBudget)))
	}
	if len(cs.HTTP) > 0 && cs.LoadCeiling > 0 && runner.Median(cs.HTTP) > 1.1*cs.LoadCeiling {
		out = append(out, fmt.Sprintf("the do-nothing server (%s req/s) is faster than the load generator's CPU allows (%s req/s): its CPU figures are wrong", runner.Num(runner.Median(cs.HTTP)), runner.Num(cs.LoadCeiling)))
	}
	return out
}

// beyond says whether an experiment's legs all beat the fixed server's:
// its slowest round above the fixed server's fastest. With three rounds of
// one-second legs, a median a little higher is noise (the fixed server's own
// rounds spread by a tenth or more).
func (cs *Result) beyond(e *Experiment) bool {
	return e.Skipped == "" && len(e.RPS) > 0 && len(cs.FinalRPS) > 0 && slices.Min(e.RPS) > slices.Max(cs.FinalRPS)
}

// limiter names what limits the fixed server from the same run's figures:
// the experiment whose every leg beat the fixed server's, else the CPU when
// the budget is nearly spent, else where the wall clock goes.
func (cs *Result) limiter() string {
	noise := spread(cs.FinalRPS)
	var best *Experiment
	for i := range cs.Experiments {
		e := &cs.Experiments[i]
		if !e.Combined && cs.beyond(e) && (best == nil || e.Median > best.Median) {
			best = e
		}
	}
	combined := ""
	for _, e := range cs.Experiments {
		if e.Combined && e.Skipped == "" && cs.Final > 0 && len(e.RPS) > 0 {
			combined += fmt.Sprintf(" Without %s: %.2fx.", e.Suspect, e.Median/cs.Final)
		}
	}
	more := ""
	if n := len(cs.Sweep); n > 0 {
		first, last := cs.Sweep[0], cs.Sweep[n-1]
		for _, p := range cs.Sweep {
			if p.Workers == cs.Load.Workers {
				first = p
			}
		}
		// One leg per point: only a gain beyond a tenth (and beyond the
		// round robin's spread) counts.
		if last.Workers > first.Workers && first.Solution > 0 && last.Solution > max(noise, 1.1)*first.Solution {
			more = fmt.Sprintf(" More clients help too: %s req/s at %d clients against %s at %d, so requests wait for one another (in a queue, for a batch), not for a resource that is used up.",
				runner.Num(last.Solution), last.Workers, runner.Num(first.Solution), first.Workers)
		}
	}
	busy := 0.0
	if cs.CPUBudget > 0 {
		busy = cs.Final / cs.CPUBudget
	}
	switch {
	case best != nil:
		return fmt.Sprintf("The limiter is %s: without it every leg of the fixed server was faster, %s req/s, %.2fx (its own rounds spread %.2fx).%s%s", best.Suspect, runner.Num(best.Median), best.Median/cs.Final, noise, combined, more)
	case busy >= 0.85:
		return fmt.Sprintf("The limiter is the CPU: the fixed server uses %.0f%% of what the cores allow at its CPU per request, and no experiment's legs all beat it (its own rounds spread %.2fx).%s%s", 100*busy, noise, combined, more)
	}
	where := ""
	if wc := cs.Wall; wc != nil && cs.Load.Workers > 0 {
		in := min(wc.Handler/float64(cs.Load.Workers), 1)
		where = fmt.Sprintf(" Where the time goes instead: a client spends %.0f%% of its cycle outside the server's handler (building and sending the request, the kernel, HTTP, reading the answer, on cores shared with Postgres) and %.0f%% inside it, most of that waiting for its batch's COPY and commit.", 100*(1-in), 100*in)
		for _, w := range wc.Writers {
			where += fmt.Sprintf(" The %s had %.2f %s in flight on average.", w.What, w.InFlight, w.Unit)
		}
	}
	return fmt.Sprintf("No single resource limits it: no experiment's legs all beat the fixed server's (its own rounds spread %.2fx), and it uses %.0f%% of what the cores allow.%s%s%s", noise, 100*busy, where, combined, more)
}

// writeLimits prints the ceilings, the wall clock and the experiments.
func (cs *Result) writeLimits(w io.Writer) {
	fmt.Fprintf(w, "## What limits the fixed server\n\n")
	fmt.Fprintf(w, "The fixed server served %s req/s in the round robin (median of %d rounds [%s–%s]), with %d clients of %d lines per request.\n\n",
		runner.Num(cs.Final), len(cs.FinalRPS), runner.Num(lowest(cs.FinalRPS)), runner.Num(highest(cs.FinalRPS)), cs.Load.Workers, cs.Load.Lines)
	fmt.Fprintf(w, "| ceiling, same clients and bodies | req/s | the fixed server is | how it was measured |\n|---|---|---|---|\n")
	row := func(name string, v float64, how string) {
		if v > 0 {
			fmt.Fprintf(w, "| %s | %s | %.0f%% of it | %s |\n", name, runner.Num(v), 100*cs.Final/v, how)
		}
	}
	if len(cs.HTTP) > 0 {
		row("HTTP: a server that does nothing", runner.Median(cs.HTTP), fmt.Sprintf("-discard, proven to do nothing on every leg (0 rows, 0 round trips, 0 fsyncs, no audit file); [%s–%s]", runner.Num(slices.Min(cs.HTTP)), runner.Num(slices.Max(cs.HTTP))))
	}
	row("the load generator's own", cs.LoadCeiling, fmt.Sprintf("%d cores / its CPU per request against the do-nothing server (%.3f ms)", cs.Cores, runner.Median(cs.HTTPLoadMS)))
	if len(cs.CopyReqs) > 0 {
		row("the database's ingest: CopyFrom, fsync on", runner.Median(cs.CopyReqs), fmt.Sprintf("%s rows/s in batches of 50,000, over %d lines per request", runner.Num(runner.Median(cs.CopyRows)), cs.Load.Lines))
	}
	row("the CPU budget", cs.CPUBudget, fmt.Sprintf("%d cores / (server + Postgres + load generator CPU per request of the fixed server: %.3f ms)", cs.Cores, cs.CPUPerReq))
	fmt.Fprintln(w)
	if len(cs.HTTP) > 0 {
		fmt.Fprintf(w, "The instrument, measured first: against the do-nothing server the load generator spent %.3f ms of CPU per request (the do-nothing server %.3f ms), so on this machine it could not send more than %s req/s even if it had the cores to itself; it is %.0f%% of the CPU per request the fixed server's legs cost all three processes.\n\n",
			runner.Median(cs.HTTPLoadMS), runner.Median(cs.HTTPServerMS), runner.Num(cs.LoadCeiling), 100*cs.LoadMS/max(cs.CPUPerReq, 1e-9))
	}
	if wc := cs.Wall; wc != nil {
		in := 1.0
		if cs.Load.Workers > 0 {
			in = min(wc.Handler/float64(cs.Load.Workers), 1)
		}
		fmt.Fprintf(w, "Where a request of the fixed server spends its wall clock, from its fgprof profile (%s of the headline's profiled leg): on average %.1f of the %d clients' requests were in the server's handler, so by Little's law a client spends %.0f%% of its cycle there and %.0f%% outside it.\n\n"+
			"| where | share of the handler's wall clock | share of a client's cycle |\n|---|---|---|\n", wc.Window.Round(time.Millisecond), wc.Handler, cs.Load.Workers, 100*in, 100*(1-in))
		fmt.Fprintf(w, "| outside the handler: the load generator, the kernel, HTTP before and after the handler | | %.0f%% |\n", 100*(1-in))
		for _, s := range wc.Stages {
			l, _ := labs.ByNumber(s.Lab)
			fmt.Fprintf(w, "| lab %d (%s): %s | %.1f%% | %.1f%% |\n", s.Lab, s.Slug, l.Stage, 100*s.Share, 100*s.Share*in)
		}
		fmt.Fprintf(w, "| the rest of the handler: routing, the server's own code | %.1f%% | %.1f%% |\n\n", 100*wc.Rest, 100*wc.Rest*in)
		for _, wr := range wc.Writers {
			fmt.Fprintf(w, "- the %s: %.2f %s in flight on average (one at a time, 1.00 is always working)\n", wr.What, wr.InFlight, wr.Unit)
		}
		fmt.Fprintln(w)
	}
	if len(cs.Experiments) > 0 {
		fmt.Fprintf(w, "One experiment per suspect, each a configuration of the round robin (all-solution otherwise; the fixed server's own legs: [%s–%s]); an experiment counts only if every one of its legs beat every leg of the fixed server:\n\n| suspect | experiment | req/s (median) | [min–max] | x the fixed server |\n|---|---|---|---|---|\n", runner.Num(lowest(cs.FinalRPS)), runner.Num(highest(cs.FinalRPS)))
		for _, e := range cs.Experiments {
			if e.Skipped != "" {
				fmt.Fprintf(w, "| %s | %s | not measured: %s | | |\n", e.Suspect, strings.TrimPrefix(e.Name, "experiment: "), e.Skipped)
				continue
			}
			verdict := "within the noise"
			if cs.beyond(&e) {
				verdict = "every leg faster"
			}
			fmt.Fprintf(w, "| %s | %s | %s | [%s–%s] | %.2fx: %s |\n", e.Suspect, strings.TrimPrefix(e.Name, "experiment: "), runner.Num(e.Median), runner.Num(lowest(e.RPS)), runner.Num(highest(e.RPS)), e.Median/max(cs.Final, 1e-9), verdict)
		}
		fmt.Fprintf(w, "| the clients | more of them: the sweep below | | | |\n\n")
	}
	fmt.Fprintf(w, "%s\n\n", cs.limiter())
}

// under returns p with only the samples that have a frame matching re on
// their stack.
func under(p *profile.Profile, re *regexp.Regexp) *profile.Profile {
	// What FuncShare reads; the samples keep pointing into p.
	q := &profile.Profile{SampleType: p.SampleType, DurationNanos: p.DurationNanos}
	for _, s := range p.Sample {
		if onStack(s, re) {
			q.Sample = append(q.Sample, s)
		}
	}
	return q
}

func onStack(s *profile.Sample, re *regexp.Regexp) bool {
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil && re.MatchString(line.Function.Name) {
				return true
			}
		}
	}
	return false
}

// lowest and highest are slices.Min and Max, 0 for no legs (a skipped
// experiment has none).
func lowest(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Min(v)
}

func highest(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	return slices.Max(v)
}
