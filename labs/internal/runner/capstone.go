package runner

import (
	"context"
	"encoding/json"
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
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres"
)

// CapstoneConfig is one make capstone run.
type CapstoneConfig struct {
	// Base carries the load, the server binary, the database, the output
	// directory and the pairs of the all-baseline vs all-solution
	// comparison; its Lab and Stages are set by RunCapstone.
	Base Config
	// Rounds: how many times every configuration of the waterfalls and
	// the ablation is measured, round robin, each round in a rotated order.
	Rounds int
	// ProfileSeconds: the fgprof window at each step of the profile-order
	// waterfall.
	ProfileSeconds int
	// RoundSeconds sizes the legs of the round robin and the sweep when
	// Base.Load.Requests is 0: the requests the all-solution server serves
	// in this many seconds, at its rate in the headline comparison; 0
	// means 1. (The headline comparison sizes its own legs, at
	// Base.MinLegSeconds.) The slow configurations then run for longer,
	// about 10 s each here; 21 configurations in three rounds must fit in
	// make capstone's 15 minutes with the rest.
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

// Capstone is what RunCapstone measured.
type Capstone struct {
	Started  time.Time
	Commit   string
	Machine  string
	Database string
	Load     load.Spec
	Rounds   int
	Compare  *Report // all-baseline against all-solution, alternating
	Article  []Step  // fixing labs 1, 2, ..., 7 in turn
	Profiled []Step  // fixing, at each step, the stage the profile shows widest
	Ablation []Step  // all-solution with one stage put back to baseline
	Final    float64 // the all-solution median req/s of the round robin
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
	RoundTrip *RoundTrip `json:",omitempty"`
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
func stagesOf(fixed []int) string {
	parts := []string{"all=baseline"}
	for _, n := range slices.Sorted(slices.Values(fixed)) {
		parts = append(parts, fmt.Sprintf("%d=solution", n))
	}
	return strings.Join(parts, ",")
}

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

// RunCapstone measures the whole server: all-baseline against
// all-solution, what limits the fixed server, the two waterfalls, the
// ablation and the sweep, each a step of its own below.
func RunCapstone(ctx context.Context, cc CapstoneConfig) (*Capstone, error) {
	start := time.Now()
	c := cc.Base
	c.started = start
	if err := os.MkdirAll(c.OutDir, 0o755); err != nil {
		return nil, err
	}
	cs := &Capstone{Started: start, Commit: c.Commit, Machine: machine(), Database: strings.TrimPrefix(c.DB.String(), "database: "), Load: c.Load, Rounds: cc.Rounds}
	if err := cs.headline(ctx, &c, cc.RoundSeconds); err != nil {
		return nil, err
	}
	prof, err := c.profileOrder(ctx, cc.ProfileSeconds)
	if err != nil {
		return nil, err
	}
	art, abl := articleOrder(), ablation()
	if err := cs.roundRobin(ctx, c, cc.Rounds, art, prof, abl); err != nil {
		return nil, err
	}
	if err := cs.sweep(ctx, c); err != nil {
		return nil, err
	}
	cs.Warnings = cs.implausible()
	cs.ElapsedSecs = time.Since(start).Seconds()
	return cs, cs.write(c.OutDir)
}

// headline is step 1: all-baseline against all-solution, alternating, with
// every metric and profile a lab has and the CPU of each process; then the
// fixed server's wall clock by stage, and the work of the round robin's
// legs (c.Load.Requests), sized from the fixed server's rate.
func (cs *Capstone) headline(ctx context.Context, c *Config, roundSeconds float64) error {
	cmp := *c
	cmp.Lab = &labs.Lab{Slug: "capstone", Trick: "all seven fixes against the slow server", Claim: "1,000 -> 30,000 req/s (30x), the whole server", Profile: "fgprof"}
	cmp.Stages = &[2]string{stagesOf(nil), stagesOf(allLabs())}
	cmp.Candidate = labs.Solution // every stage's, as the report's after side says
	cmp.OutDir = filepath.Join(c.OutDir, "compare")
	cmp.ProcessCPU = true
	c.progress("capstone: all-baseline against all-solution, %d alternating pairs", c.Pairs)
	rep, err := Run(ctx, cmp)
	if err != nil {
		return fmt.Errorf("all-baseline against all-solution: %w", err)
	}
	cs.Compare, cs.Load = rep, rep.Load
	cs.RoundTrip, cs.Cores = rep.RoundTrip, runtime.NumCPU()
	if len(rep.B.Legs) > 0 && rep.B.Legs[0].CPU != nil {
		var per, ld []float64
		for _, l := range rep.B.Legs {
			per = append(per, l.CPU.ServerMS+l.CPU.PostgresMS+l.CPU.LoadMS)
			ld = append(ld, l.CPU.LoadMS)
		}
		cs.CPUPerReq, cs.LoadMS = median(per), median(ld)
		cs.CPUBudget = cpuBudget(cs.Cores, cs.CPUPerReq)
	}
	if path := rep.B.Profiles["fgprof"]; path != "" {
		p, err := flame.Load(path)
		if err != nil {
			return err
		}
		if cs.Wall, err = WallClockOf(p); err != nil {
			return fmt.Errorf("the fixed server's wall clock: %w", err)
		}
	}
	cs.Limits = limits(rep)
	if c.Load.Requests <= 0 {
		// Every leg of the round robin gets the same work, which the
		// fastest configuration (all-solution, give or take) serves in
		// roundSeconds.
		if roundSeconds <= 0 {
			roundSeconds = 1
		}
		var fast []float64
		for _, l := range rep.B.Legs {
			fast = append(fast, l.Load.ReqPerSec)
		}
		c.Load.Requests = min(SizeWork(median(fast), roundSeconds), 40_000)
		cs.RoundSeconds = roundSeconds
	}
	cs.RoundRequests = c.Load.Requests
	return nil
}

// profileOrder is step 2: at each step, profile the server as it is and
// fix the stage the profiles choose (Choose).
func (c *Config) profileOrder(ctx context.Context, seconds int) ([]Step, error) {
	var fixed []int
	prof := []Step{{Label: "all baseline", Stages: stagesOf(nil)}}
	for len(fixed) < len(labs.All) {
		var unfixed []*labs.Lab
		for _, l := range labs.All {
			if !slices.Contains(fixed, l.Number) {
				unfixed = append(unfixed, l)
			}
		}
		var shares, cpuShares map[int]float64 // the last stage left needs no choosing
		next := unfixed[0].Number
		if len(unfixed) > 1 {
			c.progress("capstone: profiling %s to choose the next fix", stagesOf(fixed))
			wall, cpu, err := c.chooseProfiles(ctx, stagesOf(fixed), seconds, len(fixed))
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
	for i, l := range labs.All {
		f := allLabs()[:i+1]
		art = append(art, Step{Label: fmt.Sprintf("+ lab %d (%s)", l.Number, l.Slug), Stages: stagesOf(f), Fixed: f})
	}
	return art
}

// ablation is all-solution with one stage at a time back at baseline.
func ablation() []Step {
	var abl []Step
	for _, l := range labs.All {
		var f []int
		for _, n := range allLabs() {
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
func (cs *Capstone) roundRobin(ctx context.Context, c Config, rounds int, art, prof, abl []Step) error {
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
		if exps[i].DBFsyncOff && c.DB.Source == postgres.SourceURL {
			exps[i].Skipped = "the database is yours (FLAMELAB_DATABASE_URL): flamelab does not change its settings"
			continue
		}
		configs = append(configs, exps[i].Name)
	}
	rps := map[string][]float64{}
	for r := range rounds {
		for i := range configs {
			name := configs[(i+r)%len(configs)]
			c.progress("capstone: round %d/%d, configuration %d/%d: %s", r+1, rounds, i+1, len(configs), name)
			v, err := cs.measureConfig(ctx, c, exps, name, fmt.Sprintf("r%dc%d", r, i))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			rps[name] = append(rps[name], v)
		}
	}
	for _, steps := range [][]Step{art, prof, abl} {
		for i := range steps {
			steps[i].RPS = rps[steps[i].Stages]
			steps[i].Median = median(steps[i].RPS)
		}
	}
	cs.Article, cs.Profiled, cs.Ablation = art, prof, abl
	cs.Final, cs.FinalRPS = art[len(art)-1].Median, art[len(art)-1].RPS
	for i := range exps {
		exps[i].RPS = rps[exps[i].Name]
		exps[i].Median = median(exps[i].RPS)
	}
	cs.Experiments = exps
	cs.HTTP = rps[httpCeiling]
	if len(cs.HTTPLoadMS) > 0 {
		cs.LoadCeiling = cpuBudget(cs.Cores, median(cs.HTTPLoadMS))
	}
	cs.HalfArticle, cs.HalfProfiled = passesHalf(art, cs.Final), passesHalf(prof, cs.Final)
	return nil
}

// measureConfig measures one leg of the round robin's configuration name
// and returns its req/s (for the COPY ceiling, req/s of the load's
// requests).
func (cs *Capstone) measureConfig(ctx context.Context, c Config, exps []Experiment, name, leg string) (float64, error) {
	switch name {
	case httpCeiling:
		// The ceiling's legs also measure the CPU the load generator
		// spends per request: the instrument is measured first.
		withCPU := c
		withCPU.ProcessCPU = true
		withCPU.Load.Requests = max(c.Load.Requests, ceilingRequests)
		l, err := withCPU.measure(ctx, &Side{Name: "http", Stages: stagesOf(allLabs()), Args: []string{"-discard"}}, leg+"http")
		if err != nil {
			return 0, err
		}
		if l.CPU != nil {
			cs.HTTPLoadMS = append(cs.HTTPLoadMS, l.CPU.LoadMS)
			cs.HTTPServerMS = append(cs.HTTPServerMS, l.CPU.ServerMS)
		}
		return l.Load.ReqPerSec, nil
	case copyCeilingName:
		rowsPerSec, err := c.copyCeiling(ctx)
		if err != nil {
			return 0, err
		}
		cs.CopyRows = append(cs.CopyRows, rowsPerSec)
		cs.CopyReqs = append(cs.CopyReqs, rowsPerSec/float64(c.Load.Lines))
		return rowsPerSec / float64(c.Load.Lines), nil
	}
	if e := experimentNamed(exps, name); e != nil {
		l, err := c.measureExperiment(ctx, e, leg)
		return l.Load.ReqPerSec, err
	}
	l, err := c.measure(ctx, &Side{Name: leg, Stages: name}, leg)
	return l.Load.ReqPerSec, err
}

// sweep is step 4: capacity means saturated: req/s against concurrent
// clients, both sides and the do-nothing server, alternating which goes
// first.
func (cs *Capstone) sweep(ctx context.Context, c Config) error {
	for i, w := range sweepWorkers {
		sw := c
		sw.Load.Workers = w
		pt := SweepPoint{Workers: w}
		const discard = "discard"
		sides := []string{stagesOf(nil), stagesOf(allLabs()), discard}
		if i%2 == 1 {
			slices.Reverse(sides)
		}
		for _, stages := range sides {
			c.progress("capstone: sweep: %d clients, %s", w, stages)
			side := &Side{Name: "sweep", Stages: stages}
			leg := sw
			if stages == discard {
				side.Stages, side.Args = stagesOf(allLabs()), []string{"-discard"}
				leg.Load.Requests = max(sw.Load.Requests, ceilingRequests)
			}
			res, err := leg.measure(ctx, side, fmt.Sprintf("sweep%d", w))
			if err != nil {
				return fmt.Errorf("sweep at %d clients: %w", w, err)
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

// copyCeiling empties the table and copies 50,000 rows of the load's events
// into it with one CopyFrom (fsync on, as for the servers), returning rows
// per second.
func (c *Config) copyCeiling(ctx context.Context) (float64, error) {
	if err := c.fresh(ctx); err != nil {
		return 0, err
	}
	const rows = 50_000
	perReq := max(1, c.Load.Lines)
	src := make([][]any, 0, rows)
	for i := 0; len(src) < rows; i++ {
		for j, e := range load.Events(c.Load.Seed, i, perReq) {
			if len(src) == rows {
				break
			}
			src = append(src, []any{[16]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 1}, j + 1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes})
		}
	}
	start := time.Now()
	n, err := c.DB.Pool.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"request_id", "line", "ts", "user_id", "path", "status", "latency_ms", "bytes"}, pgx.CopyFromRows(src))
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// limits reads the CPU rows of the comparison: a side whose three processes
// keep the cores busy is limited by CPU, and the process using most says by
// whose; one that leaves them idle is waiting (on the disk, the network, or
// on itself).
func limits(rep *Report) []string {
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

func allLabs() []int {
	var out []int
	for _, l := range labs.All {
		out = append(out, l.Number)
	}
	return out
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

// chooseProfiles runs stages under load and returns an fgprof profile of
// seconds taken in the thick of it, then a CPU profile of as many seconds
// (one after the other: fgprof's own sampling would fill a CPU profile
// taken beside it).
func (c *Config) chooseProfiles(ctx context.Context, stages string, seconds, step int) (wall, cpu *profile.Profile, err error) {
	if err := c.fresh(ctx); err != nil {
		return nil, nil, err
	}
	audit := filepath.Join(c.OutDir, fmt.Sprintf("audit-choose%d.log", step))
	defer os.Remove(audit)
	srv, err := startServer(ctx, c.ServerBin, stages, c.DB.URL, audit, false)
	if err != nil {
		return nil, nil, err
	}
	defer srv.kill()
	spec := c.Load
	spec.Target, spec.Requests, spec.Warmup = srv.public, 1_000_000, 0 // until the profiles are taken
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = load.Run(lctx, spec, nil) })
	defer wg.Wait()
	defer stop()
	time.Sleep(500 * time.Millisecond) // past the first connections
	take := func(kind, url string) (*profile.Profile, error) {
		body, err := get(ctx, fmt.Sprintf("%s%sseconds=%d", srv.admin, url, seconds))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		path := filepath.Join(c.OutDir, fmt.Sprintf("choose%d-%s.pb.gz", step, kind))
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return nil, err
		}
		return flame.Load(path)
	}
	if wall, err = take("fgprof", "/debug/fgprof?format=pprof&"); err != nil {
		return nil, nil, err
	}
	if cpu, err = take("cpu", "/debug/pprof/profile?"); err != nil {
		return nil, nil, err
	}
	return wall, cpu, nil
}

// write saves capstone.json, capstone.md and capstone.html in dir.
func (cs *Capstone) write(dir string) error {
	js, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "capstone.json"), js, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	cs.WriteText(&md)
	if err := os.WriteFile(filepath.Join(dir, "capstone.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "capstone.html"))
	if err != nil {
		return err
	}
	defer f.Close()
	return capstoneHTML.Execute(f, cs)
}

// Text is WriteText's output, for the HTML page.
func (cs *Capstone) Text() string {
	var b strings.Builder
	cs.WriteText(&b)
	return b.String()
}

// WriteText prints the capstone's tables.
//
// It is long on purpose: it prints one report top to bottom, a section per
// block, in the order a reader reads it.
func (cs *Capstone) WriteText(w io.Writer) {
	fmt.Fprintf(w, "# capstone: all seven fixes\n\n")
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
			fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s |\n", m.Name, m.Unit, fmtNum(m.MedianA), fmtNum(m.MedianB), m.ratioText(), m.Verdict())
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
			ceiling := min(median(cs.HTTP), median(cs.CopyReqs))
			fmt.Fprintf(w, "With %d clients, the lower of the HTTP and COPY ceilings is %s req/s: the most any server doing this work could gain over the all-baseline server (%s req/s) at this concurrency is %.1fx; a 30x gain would need %s req/s.\n\n",
				cs.Load.Workers, fmtNum(ceiling), fmtNum(base), ceiling/base, fmtNum(30*base))
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
			fmt.Fprintf(w, "| %s | %s | [%s–%s] | %.2fx |", s.Label, fmtNum(s.Median), fmtNum(lo), fmtNum(hi), ratio)
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
			fmt.Fprintf(w, "| %d | %s | %s | %s | %.0f%% |\n", p.Workers, fmtNum(p.Baseline), fmtNum(p.Solution), fmtNum(p.HTTP), 100*p.Solution/max(p.HTTP, 1))
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
			fmtNum(bestB.Baseline), bestB.Workers, fmtNum(bestS.Solution), bestS.Workers, bestS.Solution/max(bestB.Baseline, 1),
			fmtNum(bestH.HTTP), bestH.Workers, bestH.HTTP/max(bestB.Baseline, 1), fmtNum(30*bestB.Baseline))
	}
	table("Waterfall, the article's order", cs.Article, false)
	table("Waterfall, the profile's order", cs.Profiled, true)
	fmt.Fprintf(w, "The profile's order is chosen by the tool: at each step, the stage with the largest share of the request handler's wall clock (fgprof), and of the stages within %.0f points of it, the one with most of its CPU.\n\n", 100*nearTie)
	fmt.Fprintf(w, "Half of the final speed (%s req/s) is passed after %d step(s) in the article's order and %d in the profile's.\n\n", fmtNum(cs.Final), cs.HalfArticle, cs.HalfProfiled)
	fmt.Fprintf(w, "## Ablation: all-solution with one stage back at baseline\n\n| configuration | req/s (median) | x all-solution |\n|---|---|---|\n")
	for _, s := range cs.Ablation {
		ratio := 0.0
		if cs.Final > 0 {
			ratio = s.Median / cs.Final
		}
		fmt.Fprintf(w, "| %s | %s | %.2fx |\n", s.Label, fmtNum(s.Median), ratio)
	}
}

// Bar is one bar of a chart: a step's median, and its width in pixels.
type Bar struct {
	Label string
	Value float64
	W     float64
}

// Bars returns one chart's bars, scaled to the widest.
func (cs *Capstone) Bars(steps []Step) []Bar {
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
	"num": fmtNum,
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
<h1>capstone: all seven fixes</h1>
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
