package capstone

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

// Config is one make capstone run.
type Config struct {
	Bench *runner.Bench
	// Options are the headline comparison's (all-baseline against
	// all-solution): its pairs and sizing, and the load every leg of the
	// capstone sends (Load.Requests 0: the runner sizes the legs).
	runner.Options
	// Rounds: how many times every configuration of the waterfalls and
	// the ablation is measured, round robin, each round in a rotated order.
	Rounds int
	// ProfileSeconds: the fgprof window at each step of the profile-order
	// waterfall.
	ProfileSeconds int
	// RoundSeconds sizes the legs of the round robin and the sweep when
	// Load.Requests is 0: the requests the all-solution server serves in
	// this many seconds, at its rate in the headline comparison; 0 means
	// 1. (The headline comparison sizes its own legs, at MinLegSeconds.)
	// The slow configurations then run for longer, about 10 s each here;
	// 21 configurations in three rounds must fit in make capstone's 15
	// minutes with the rest.
	RoundSeconds float64
}

// Step is one configuration of a waterfall or of the ablation.
type Step struct {
	Label  string    // what changed, e.g. "+ lab 7 (07-batching)"
	Stages string    // the -stages it runs
	Fixed  []int     // the labs at their solution
	RPS    []float64 // req/s, one per round
	Median float64
	// Shares, for a step of the profile-order waterfall: each stage still
	// at baseline, its share of the request handler's wall-clock time in
	// the server as it was before this step (fgprof), which chose it.
	Shares map[int]float64 `json:",omitempty"`
	// CPUShares: the same stages' share of the handler's CPU time, from a
	// CPU profile taken right after the fgprof window on the same server.
	// It breaks near-ties of Shares (see Choose).
	CPUShares map[int]float64 `json:",omitempty"`
}

// Result is what Run measured; it is also written as capstone.json.
type Result struct {
	Started  time.Time
	Commit   string
	Machine  string
	Database string
	Load     load.Spec
	Rounds   int
	Compare  *runner.Report // all-baseline against all-solution, alternating
	Article  []Step         // fixing labs 1, 2, ..., 7 in turn
	Profiled []Step         // fixing, at each step, the stage the profile shows widest
	Ablation []Step         // all-solution with one stage put back to baseline
	Final    float64        // the all-solution median req/s of the round robin
	// The machine's ceilings for the same work, measured in the same round
	// robin: HTTP, a server that only reads the bodies (req/s); Copy, the
	// database ingesting the same rows with CopyFrom in batches of 50,000,
	// fsync on (rows/s, and the req/s of requests of Load.Lines events).
	HTTP, CopyRows, CopyReqs []float64
	// Limits says, for each side of the comparison, what its CPU figures
	// point at.
	Limits []string
	// Sweep: req/s of both sides at several numbers of concurrent
	// clients: capacity is where req/s stops rising.
	Sweep []SweepPoint
	// HalfArticle and HalfProfiled: after how many steps each order passes
	// half of Final.
	HalfArticle, HalfProfiled int
	ElapsedSecs               float64
	// RoundRequests is the work of every leg of the round robin and the
	// sweep (Load.Requests is the headline comparison's).
	RoundRequests int
	RoundSeconds  float64 // what sized RoundRequests; 0 when given

	// Warnings: implausible figures (a server faster than the do-nothing
	// one, a ceiling below what it bounds), printed at the report's top.
	Warnings []string `json:",omitempty"`
	// RoundTrip: one round trip to the run's database.
	RoundTrip *runner.RoundTrip `json:",omitempty"`
	Cores     int
	// HTTPLoadMS and HTTPServerMS: CPU per request of the load generator
	// and of the do-nothing server, on each HTTP ceiling leg.
	HTTPLoadMS, HTTPServerMS []float64
	// LoadCeiling: Cores / the load generator's CPU per request, req/s.
	LoadCeiling float64
	// CPUPerReq: the fixed server's legs' CPU per request, server,
	// Postgres and load generator together (ms; LoadMS of it the load
	// generator's); CPUBudget: Cores / CPUPerReq, req/s.
	CPUPerReq, LoadMS, CPUBudget float64
	FinalRPS                     []float64 // the all-solution server's round robin legs
	Wall                         *WallClock
	Experiments                  []Experiment
}

// SweepPoint is both sides' req/s at one concurrency.
type SweepPoint struct {
	Workers            int
	Baseline, Solution float64
	HTTP               float64 // the do-nothing server at the same concurrency: the ceiling there
}

// sweepWorkers are the concurrencies of the sweep.
var sweepWorkers = []int{8, 32, 64, 128}

// stagesOf returns the -stages value with exactly the labs in fixed at
// their solution.
func stagesOf(fixed []int) string { return labs.Fix(fixed...).Flag() }

// handler matches the server's request handler frame: the shares of the
// profile order are shares of the time requests spent in it.
var handler = regexp.MustCompile(`^github\.com/flamelab/flamelab/server\.\(\*Server\)\.ServeHTTP$`)

// StageShares returns, for each lab in candidates, the share of the request
// handler's samples (in p, a wall-clock fgprof profile, or a CPU profile
// with valueType "cpu") spent in that lab's baseline stage.
func StageShares(p *profile.Profile, candidates []*labs.Lab, valueType string) (map[int]float64, error) {
	h, err := flame.FuncShare(p, handler, valueType)
	if err != nil {
		return nil, err
	}
	out := map[int]float64{}
	for _, l := range candidates {
		re := regexp.MustCompile("^" + regexp.QuoteMeta(l.Package(labs.Baseline)) + `\.`)
		s, err := flame.FuncShare(p, re, valueType)
		if err != nil {
			return nil, err
		}
		if h.Cum > 0 {
			out[l.Number] = s.Cum / h.Cum
		}
	}
	return out, nil
}

// Widest returns the lab with the largest share (the lower number on a tie).
func Widest(shares map[int]float64) int {
	best := 0
	for _, n := range slices.Sorted(maps.Keys(shares)) {
		if best == 0 || shares[n] > shares[best] {
			best = n
		}
	}
	return best
}

// nearTie is how close, in share of the handler's wall clock, two stages
// must be for the CPU profile to decide between them: closer than a profile
// of a few seconds can tell apart.
const nearTie = 0.05

// Choose returns the stage to fix next: the widest in the handler's wall
// clock; of the stages within nearTie of the widest, the one with most of
// the handler's CPU. Waiting is what a request's latency is made of, so wall
// clock leads; but once no stage stands out in it (late in the waterfall,
// every share is a few percent), what each costs the cores decides the
// throughput of a two-core machine.
func Choose(wall, cpu map[int]float64) int {
	first := Widest(wall)
	best := first
	for _, n := range slices.Sorted(maps.Keys(wall)) {
		if wall[first]-wall[n] < nearTie && cpu[n] > cpu[best] {
			best = n
		}
	}
	return best
}

// Run measures the whole server: all-baseline against all-solution, what
// limits the fixed server, the two waterfalls, the ablation and the sweep,
// each a step of its own below, and writes capstone.json, .md and .html to
// cfg.Bench.OutDir.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	b := cfg.Bench
	if err := os.MkdirAll(b.OutDir, 0o755); err != nil {
		return nil, err
	}
	cs := &Result{Started: start, Commit: b.Commit, Database: strings.TrimPrefix(b.DB.String(), "database: "), Load: cfg.Load, Rounds: cfg.Rounds}
	round, err := cs.headline(ctx, cfg)
	if err != nil {
		return nil, err
	}
	prof, err := profileOrder(ctx, b, round, cfg.ProfileSeconds)
	if err != nil {
		return nil, err
	}
	art, abl := articleOrder(), ablation()
	if err := cs.roundRobin(ctx, b, round, cfg.Rounds, art, prof, abl); err != nil {
		return nil, err
	}
	if err := cs.sweep(ctx, b, round); err != nil {
		return nil, err
	}
	cs.Warnings = cs.implausible()
	cs.ElapsedSecs = time.Since(start).Seconds()
	return cs, cs.write(b.OutDir)
}

// headline is step 1: all-baseline against all-solution, alternating, with
// every metric and profile a lab has and the CPU of each process; then the
// fixed server's wall clock by stage. It returns the work of the round
// robin's legs, sized from the fixed server's rate.
func (cs *Result) headline(ctx context.Context, cfg Config) (round runner.Work, err error) {
	opt := cfg.Options
	opt.ProcessCPU = true
	cfg.Bench.Progressf("capstone: all-baseline against all-solution, %d alternating pairs", cfg.Pairs)
	rep, err := cfg.Bench.In(filepath.Join(cfg.Bench.OutDir, "compare")).Compare(ctx, runner.Comparison{
		Title: "capstone", Slug: "capstone", Trick: "every fix (the article's seven, and lab 08's pipeline) against the slow server", Claim: "1,000 -> 30,000 req/s (30x), the whole server", Profile: "fgprof",
		A:       &runner.Side{Name: "before", Impl: labs.Baseline, Stages: stagesOf(nil)},
		B:       &runner.Side{Name: "after", Impl: labs.Solution, Stages: stagesOf(labs.StagedNumbers())},
		Options: opt,
	})
	if err != nil {
		return round, fmt.Errorf("all-baseline against all-solution: %w", err)
	}
	cs.Compare, cs.Load, cs.Machine = rep, rep.Load, rep.Machine
	cs.RoundTrip, cs.Cores = rep.RoundTrip, runtime.NumCPU()
	if len(rep.B.Legs) > 0 && rep.B.Legs[0].CPU != nil {
		var per, ld []float64
		for _, l := range rep.B.Legs {
			per = append(per, l.CPU.ServerMS+l.CPU.PostgresMS+l.CPU.LoadMS)
			ld = append(ld, l.CPU.LoadMS)
		}
		cs.CPUPerReq, cs.LoadMS = runner.Median(per), runner.Median(ld)
		cs.CPUBudget = runner.CPUBudget(cs.Cores, cs.CPUPerReq)
	}
	if path := rep.B.Profiles["fgprof"]; path != "" {
		p, err := flame.Load(path)
		if err != nil {
			return round, err
		}
		if cs.Wall, err = WallClockOf(p); err != nil {
			return round, fmt.Errorf("the fixed server's wall clock: %w", err)
		}
	}
	cs.Limits = limits(rep)
	round.Load = cfg.Load
	if round.Load.Requests <= 0 {
		// Every leg of the round robin gets the same work, which the
		// fastest configuration (all-solution, give or take) serves in
		// RoundSeconds.
		secs := cfg.RoundSeconds
		if secs <= 0 {
			secs = 1
		}
		var fast []float64
		for _, l := range rep.B.Legs {
			fast = append(fast, l.Load.ReqPerSec)
		}
		round.Load.Requests = min(runner.SizeWork(runner.Median(fast), secs), 40_000)
		cs.RoundSeconds = secs
	}
	cs.RoundRequests = round.Load.Requests
	return round, nil
}

// profileOrder is step 2: at each step, profile the server as it is and
// fix the stage the profiles choose (Choose).
func profileOrder(ctx context.Context, b *runner.Bench, w runner.Work, seconds int) ([]Step, error) {
	var fixed []int
	prof := []Step{{Label: "all baseline", Stages: stagesOf(nil)}}
	for len(fixed) < len(labs.Staged()) {
		var unfixed []*labs.Lab
		for _, l := range labs.Staged() {
			if !slices.Contains(fixed, l.Number) {
				unfixed = append(unfixed, l)
			}
		}
		var shares, cpuShares map[int]float64 // the last stage left needs no choosing
		next := unfixed[0].Number
		if len(unfixed) > 1 {
			b.Progressf("capstone: profiling %s to choose the next fix", stagesOf(fixed))
			wall, cpu, err := b.UnderLoad(ctx, stagesOf(fixed), w.Load, seconds, fmt.Sprintf("choose%d", len(fixed)))
			if err != nil {
				return nil, err
			}
			if shares, err = StageShares(wall, unfixed, ""); err != nil {
				return nil, err
			}
			if cpuShares, err = StageShares(cpu, unfixed, "cpu"); err != nil {
				return nil, err
			}
			next = Choose(shares, cpuShares)
		}
		fixed = append(fixed, next)
		l, _ := labs.ByNumber(next)
		prof = append(prof, Step{Label: fmt.Sprintf("+ lab %d (%s)", next, l.Slug), Stages: stagesOf(fixed), Fixed: slices.Clone(fixed), Shares: shares, CPUShares: cpuShares})
	}
	return prof, nil
}

// articleOrder is the waterfall of fixing labs 1, 2, ..., in turn.
func articleOrder() []Step {
	art := []Step{{Label: "all baseline", Stages: stagesOf(nil)}}
	for i, l := range labs.Staged() {
		f := labs.StagedNumbers()[:i+1]
		art = append(art, Step{Label: fmt.Sprintf("+ lab %d (%s)", l.Number, l.Slug), Stages: stagesOf(f), Fixed: f})
	}
	return art
}

// ablation is all-solution with one stage at a time back at baseline.
func ablation() []Step {
	var abl []Step
	for _, l := range labs.Staged() {
		var f []int
		for _, n := range labs.StagedNumbers() {
			if n != l.Number {
				f = append(f, n)
			}
		}
		abl = append(abl, Step{Label: fmt.Sprintf("all solution but lab %d (%s)", l.Number, l.Slug), Stages: stagesOf(f), Fixed: f})
	}
	return abl
}

// ceilingRequests is the work of a do-nothing server's leg: it serves
// thousands a second, so the fixed server's second of work would be a
// quarter of a second of it, all start-up and tail; this is a few seconds.
const ceilingRequests = 30_000

// The round robin's two ceilings, configurations of their own.
const httpCeiling, copyCeilingName = "ceiling: HTTP", "ceiling: COPY"

// roundRobin is step 3: every distinct configuration of the waterfalls and
// the ablation, the ceilings and the experiments, each measured once a
// round, each round starting one further along, so none is always first or
// last.
func (cs *Result) roundRobin(ctx context.Context, b *runner.Bench, w runner.Work, rounds int, art, prof, abl []Step) error {
	var configs []string
	for _, steps := range [][]Step{art, prof, abl} {
		for _, s := range steps {
			if !slices.Contains(configs, s.Stages) {
				configs = append(configs, s.Stages)
			}
		}
	}
	configs = append(configs, httpCeiling, copyCeilingName)
	exps := experiments()
	for i := range exps {
		if exps[i].CommitFlushOff && b.DB.Source == postgres.SourceURL {
			exps[i].Skipped = "the database is yours (FLAMELAB_DATABASE_URL): flamelab does not change its settings"
			continue
		}
		configs = append(configs, exps[i].Name)
	}
	rps := map[string][]float64{}
	for r := range rounds {
		for i := range configs {
			name := configs[(i+r)%len(configs)]
			b.Progressf("capstone: round %d/%d, configuration %d/%d: %s", r+1, rounds, i+1, len(configs), name)
			v, err := cs.measureConfig(ctx, b, w, exps, name, fmt.Sprintf("r%dc%d", r, i))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			rps[name] = append(rps[name], v)
		}
	}
	for _, steps := range [][]Step{art, prof, abl} {
		for i := range steps {
			steps[i].RPS = rps[steps[i].Stages]
			steps[i].Median = runner.Median(steps[i].RPS)
		}
	}
	cs.Article, cs.Profiled, cs.Ablation = art, prof, abl
	cs.Final, cs.FinalRPS = art[len(art)-1].Median, art[len(art)-1].RPS
	for i := range exps {
		exps[i].RPS = rps[exps[i].Name]
		exps[i].Median = runner.Median(exps[i].RPS)
	}
	cs.Experiments = exps
	cs.HTTP = rps[httpCeiling]
	if len(cs.HTTPLoadMS) > 0 {
		cs.LoadCeiling = runner.CPUBudget(cs.Cores, runner.Median(cs.HTTPLoadMS))
	}
	cs.HalfArticle, cs.HalfProfiled = passesHalf(art, cs.Final), passesHalf(prof, cs.Final)
	return nil
}

// measureConfig measures one leg of the round robin's configuration name
// and returns its req/s (for the COPY ceiling, req/s of the load's
// requests).
func (cs *Result) measureConfig(ctx context.Context, b *runner.Bench, w runner.Work, exps []Experiment, name, leg string) (float64, error) {
	switch name {
	case httpCeiling:
		// The ceiling's legs also measure the CPU the load generator
		// spends per request: the instrument is measured first.
		cw := ceilingWork(w)
		cw.ProcessCPU = true
		l, err := b.Leg(ctx, doNothing(), cw, leg+"http")
		if err != nil {
			return 0, err
		}
		if l.CPU != nil {
			cs.HTTPLoadMS = append(cs.HTTPLoadMS, l.CPU.LoadMS)
			cs.HTTPServerMS = append(cs.HTTPServerMS, l.CPU.ServerMS)
		}
		return l.Load.ReqPerSec, nil
	case copyCeilingName:
		rowsPerSec, err := b.CopyCeiling(ctx, w.Load)
		if err != nil {
			return 0, err
		}
		perReq := rowsPerSec / float64(w.Load.Lines)
		cs.CopyRows, cs.CopyReqs = append(cs.CopyRows, rowsPerSec), append(cs.CopyReqs, perReq)
		return perReq, nil
	}
	if e := experimentNamed(exps, name); e != nil {
		l, err := measureExperiment(ctx, b, w, e, leg)
		return l.Load.ReqPerSec, err
	}
	l, err := b.Leg(ctx, &runner.Side{Name: leg, Stages: name}, w, leg)
	return l.Load.ReqPerSec, err
}

// doNothing is the do-nothing server (-discard): it reads each body and
// answers, and nothing else (the runner refuses a leg in which it did more).
func doNothing() *runner.Side {
	return &runner.Side{Name: "http", Stages: stagesOf(nil), Args: []string{"-discard"}}
}

// ceilingWork is w with at least ceilingRequests requests: the do-nothing
// server serves thousands a second.
func ceilingWork(w runner.Work) runner.Work {
	w.Load.Requests = max(w.Load.Requests, ceilingRequests)
	return w
}

// sweep is step 4: capacity means saturated: req/s against concurrent
// clients, both sides and the do-nothing server, alternating which goes
// first.
func (cs *Result) sweep(ctx context.Context, b *runner.Bench, w runner.Work) error {
	const discard = "discard"
	for i, n := range sweepWorkers {
		at := w
		at.Load.Workers = n
		pt := SweepPoint{Workers: n}
		sides := []string{stagesOf(nil), stagesOf(labs.StagedNumbers()), discard}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for _, stages := range sides {
			b.Progressf("capstone: sweep: %d clients, %s", n, stages)
			side, work := &runner.Side{Name: "sweep", Stages: stages}, at
			if stages == discard {
				side, work = doNothing(), ceilingWork(at)
			}
			res, err := b.Leg(ctx, side, work, fmt.Sprintf("sweep%d", n))
			if err != nil {
				return fmt.Errorf("sweep at %d clients: %w", n, err)
			}
			switch stages {
			case stagesOf(nil):
				pt.Baseline = res.Load.ReqPerSec
			case discard:
				pt.HTTP = res.Load.ReqPerSec
			default:
				pt.Solution = res.Load.ReqPerSec
			}
		}
		cs.Sweep = append(cs.Sweep, pt)
	}
	return nil
}

// limits reads the CPU rows of the comparison: a side whose three processes
// keep the cores busy is limited by CPU, and the process using most says by
// whose; one that leaves them idle is waiting (on the disk, the network, or
// on itself).
func limits(rep *runner.Report) []string {
	get := func(name string) (a, b float64, ok bool) {
		for _, m := range rep.Metrics {
			if m.Name == name {
				return m.MedianA, m.MedianB, true
			}
		}
		return 0, 0, false
	}
	busyA, busyB, ok := get("cores busy")
	if !ok {
		return nil
	}
	srvA, srvB, _ := get("server CPU")
	pgA, pgB, _ := get("Postgres CPU")
	ldA, ldB, _ := get("load generator CPU")
	say := func(side string, busy, srv, pg, ld float64) string {
		who := "the server"
		if pg > srv && pg > ld {
			who = "Postgres"
		} else if ld > srv && ld > pg {
			who = "the load generator"
		}
		verdict := fmt.Sprintf("the cores were %.0f%% busy: it waits more than it computes (on what: the next section measures it)", 100*busy)
		if busy >= 0.85 {
			verdict = fmt.Sprintf("the cores were %.0f%% busy: CPU-bound, most of it in %s", 100*busy, who)
		}
		return fmt.Sprintf("%s: %s (CPU per request: server %.2f ms, Postgres %.2f ms, load generator %.2f ms)", side, verdict, srv, pg, ld)
	}
	return []string{say("all-baseline", busyA, srvA, pgA, ldA), say("all-solution", busyB, srvB, pgB, ldB)}
}

// passesHalf returns the first step whose median is at least half of final.
func passesHalf(steps []Step, final float64) int {
	for i, s := range steps {
		if s.Median >= final/2 {
			return i
		}
	}
	return len(steps)
}

// write saves capstone.json, capstone.md and capstone.html in dir.
func (cs *Result) write(dir string) error {
	return runner.WriteFiles(dir, "capstone", cs, cs.WriteText, capstoneHTML)
}

// Text is WriteText's output, for the HTML page.
func (cs *Result) Text() string {
	var b strings.Builder
	cs.WriteText(&b)
	return b.String()
}

// WriteText prints the capstone's tables.
//
// It is long on purpose: it prints one report top to bottom, a section per
// block, in the order a reader reads it.
func (cs *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "# capstone: every fix together\n\n")
	for _, warn := range cs.Warnings {
		fmt.Fprintf(w, "**WARNING: implausible figure, a bug until explained:** %s\n\n", warn)
	}
	fmt.Fprintf(w, "- measured: %s, %s\n- database: %s\n", cs.Started.UTC().Format("2006-01-02 15:04 MST"), cs.Machine, cs.Database)
	if cs.RoundTrip != nil {
		fmt.Fprintf(w, "- %s\n", cs.RoundTrip)
	}
	if cs.Commit != "" {
		fmt.Fprintf(w, "- code: %s\n", cs.Commit)
	}
	fmt.Fprintf(w, "- work per leg: %d requests in the headline comparison, %d in every leg of the round robin and the sweep (%d for the do-nothing server, which serves thousands a second); %d workers, %d lines each; waterfall and ablation: %d round(s) over every configuration, rotated\n",
		cs.Load.Requests, cs.RoundRequests, max(cs.RoundRequests, ceilingRequests), cs.Load.Workers, cs.Load.Lines, cs.Rounds)
	if cs.Compare != nil && cs.Compare.Sizing != nil {
		fmt.Fprintf(w, "- headline comparison: %s\n", cs.Compare.Sizing)
	}
	if cs.RoundSeconds > 0 {
		fmt.Fprintf(w, "- round robin and sweep: the work the all-solution server served in about %.0f s in the headline comparison; slower configurations run longer on the same work\n", cs.RoundSeconds)
	}
	fmt.Fprintln(w)
	if r := cs.Compare; r != nil && len(r.Metrics) > 0 {
		fmt.Fprintf(w, "## all-baseline against all-solution\n\n| metric | all-baseline (median) | all-solution (median) | ratio: median of pair ratios [min–max] | verdict |\n|---|---|---|---|---|\n")
		for _, m := range r.Metrics {
			fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s |\n", m.Name, m.Unit, runner.Num(m.MedianA), runner.Num(m.MedianB), m.RatioText(), m.Verdict())
		}
		fmt.Fprintf(w, "\narticle's claim: %s\n\n", r.Claim)
		if len(cs.Limits) > 0 {
			fmt.Fprintf(w, "What limits each side:\n")
			for _, l := range cs.Limits {
				fmt.Fprintf(w, "- %s\n", l)
			}
			fmt.Fprintln(w)
		}
	}
	if len(cs.HTTP) > 0 || len(cs.Experiments) > 0 {
		cs.writeLimits(w)
		if base := cs.Article[0].Median; base > 0 && len(cs.HTTP) > 0 && len(cs.CopyReqs) > 0 {
			// The CPU budget is the fixed server's own (its CPU per
			// request); a further fix could lower it. HTTP and COPY bound
			// any server that does this work.
			ceiling := min(runner.Median(cs.HTTP), runner.Median(cs.CopyReqs))
			fmt.Fprintf(w, "With %d clients, the lower of the HTTP and COPY ceilings is %s req/s: the most any server doing this work could gain over the all-baseline server (%s req/s) at this concurrency is %.1fx; a 30x gain would need %s req/s.\n\n",
				cs.Load.Workers, runner.Num(ceiling), runner.Num(base), ceiling/base, runner.Num(30*base))
		}
	}
	table := func(title string, steps []Step, shares bool) {
		fmt.Fprintf(w, "## %s\n\n| step | req/s (median) | [min–max] | x all-baseline |", title)
		if shares {
			fmt.Fprintf(w, " each stage still at baseline, before this step: its share of the handler's wall clock (and of its CPU) |")
		}
		fmt.Fprintf(w, "\n|---|---|---|---|%s\n", map[bool]string{true: "---|"}[shares])
		base := cs.Article[0].Median
		for _, s := range steps {
			lo, hi := 0.0, 0.0
			if len(s.RPS) > 0 {
				lo, hi = slices.Min(s.RPS), slices.Max(s.RPS)
			}
			ratio := 0.0
			if base > 0 {
				ratio = s.Median / base
			}
			fmt.Fprintf(w, "| %s | %s | [%s–%s] | %.2fx |", s.Label, runner.Num(s.Median), runner.Num(lo), runner.Num(hi), ratio)
			if shares {
				var parts []string
				for _, k := range slices.Sorted(maps.Keys(s.Shares)) {
					parts = append(parts, fmt.Sprintf("%d: %.0f%% (CPU %.0f%%)", k, 100*s.Shares[k], 100*s.CPUShares[k]))
				}
				if len(parts) == 0 && s.Fixed != nil {
					parts = append(parts, "the last one left")
				}
				fmt.Fprintf(w, " %s |", strings.Join(parts, ", "))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	if len(cs.Sweep) > 0 {
		fmt.Fprintf(w, "## Capacity: req/s against concurrent clients (one leg each)\n\n| clients | all-baseline | all-solution | HTTP ceiling (a do-nothing server) | all-solution / ceiling |\n|---|---|---|---|---|\n")
		var bestB, bestS, bestH SweepPoint
		for _, p := range cs.Sweep {
			fmt.Fprintf(w, "| %d | %s | %s | %s | %.0f%% |\n", p.Workers, runner.Num(p.Baseline), runner.Num(p.Solution), runner.Num(p.HTTP), 100*p.Solution/max(p.HTTP, 1))
			if p.Baseline > bestB.Baseline {
				bestB = p
			}
			if p.Solution > bestS.Solution {
				bestS = p
			}
			if p.HTTP > bestH.HTTP {
				bestH = p
			}
		}
		fmt.Fprintf(w, "\nCapacity (the highest of each column): all-baseline %s req/s at %d clients, all-solution %s req/s at %d clients: %.1fx. The do-nothing server's best, %s req/s at %d clients, is %.1fx the baseline's best: the most any fix could gain on this machine at these concurrencies; 30x would need %s req/s.\n\n",
			runner.Num(bestB.Baseline), bestB.Workers, runner.Num(bestS.Solution), bestS.Workers, bestS.Solution/max(bestB.Baseline, 1),
			runner.Num(bestH.HTTP), bestH.Workers, bestH.HTTP/max(bestB.Baseline, 1), runner.Num(30*bestB.Baseline))
	}
	table("Waterfall, the article's order", cs.Article, false)
	table("Waterfall, the profile's order", cs.Profiled, true)
	fmt.Fprintf(w, "The profile's order is chosen by the tool: at each step, the stage with the largest share of the request handler's wall clock (fgprof), and of the stages within %.0f points of it, the one with most of its CPU.\n\n", 100*nearTie)
	fmt.Fprintf(w, "Half of the final speed (%s req/s) is passed after %d step(s) in the article's order and %d in the profile's.\n\n", runner.Num(cs.Final), cs.HalfArticle, cs.HalfProfiled)
	fmt.Fprintf(w, "## Ablation: all-solution with one stage back at baseline\n\n| configuration | req/s (median) | x all-solution |\n|---|---|---|\n")
	for _, s := range cs.Ablation {
		ratio := 0.0
		if cs.Final > 0 {
			ratio = s.Median / cs.Final
		}
		fmt.Fprintf(w, "| %s | %s | %.2fx |\n", s.Label, runner.Num(s.Median), ratio)
	}
}

// Bar is one bar of a chart: a step's median, and its width in pixels.
type Bar struct {
	Label string
	Value float64
	W     float64
}

// Bars returns one chart's bars, scaled to the widest.
func (cs *Result) Bars(steps []Step) []Bar {
	top := 0.0
	for _, s := range steps {
		top = max(top, s.Median)
	}
	out := make([]Bar, 0, len(steps))
	for _, s := range steps {
		b := Bar{Label: s.Label, Value: s.Median}
		if top > 0 {
			b.W = 420 * s.Median / top
		}
		out = append(out, b)
	}
	return out
}

var capstoneHTML = template.Must(template.New("capstone").Funcs(template.FuncMap{
	"num": runner.Num,
	"chart": func(class string, bars []Bar) struct {
		Class string
		Bars  []Bar
	} {
		return struct {
			Class string
			Bars  []Bar
		}{class, bars}
	},
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>flamelab capstone</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
svg text{font:12px sans-serif}.a{fill:#4f81bd}.p{fill:#9bbb59}.x{fill:#c0504d}
</style></head><body>
{{define "bars"}}{{$c := .Class}}{{range .Bars}}<svg width="760" height="22" role="img" aria-label="{{.Label}}"><text x="0" y="15">{{.Label}}</text><rect class="{{$c}}" x="260" y="3" width="{{printf "%.1f" .W}}" height="16"/><text x="{{printf "%.1f" .W}}" dx="266" y="15">{{num .Value}}</text></svg><br>{{end}}{{end}}
<h1>capstone: every fix together</h1>
<p>Measured {{.Started.Format "2006-01-02 15:04 MST"}} on {{.Machine}}; {{.Database}}. Each configuration measured {{.Rounds}} time(s), round robin; bars are medians in req/s.
The full all-baseline against all-solution report is <a href="compare/report.html">compare/report.html</a>.</p>
<h2>Waterfall, the article's order</h2>
{{template "bars" chart "a" (.Bars .Article)}}
<p>Half of the final speed after {{.HalfArticle}} step(s).</p>
<h2>Waterfall, the profile's order</h2>
{{template "bars" chart "p" (.Bars .Profiled)}}
<p>Half of the final speed after {{.HalfProfiled}} step(s).</p>
<h2>Ablation: all-solution with one stage back at baseline</h2>
{{template "bars" chart "x" (.Bars .Ablation)}}
<h2>Every number: the comparison, what limits each side, the ceilings, the sweep, the tables</h2>
<pre style="white-space:pre-wrap;font-size:12px">{{.Text}}</pre>
</body></html>
`))

// experimentNamed returns the experiment of the round robin's key name.
func experimentNamed(exps []Experiment, name string) *Experiment {
	for i := range exps {
		if exps[i].Name == name {
			return &exps[i]
		}
	}
	return nil
}

// Load reads the capstone.json a capstone run wrote in dir.
func Load(dir string) (*Result, error) {
	cs := &Result{}
	return cs, runner.ReadJSON(filepath.Join(dir, "capstone.json"), cs)
}
