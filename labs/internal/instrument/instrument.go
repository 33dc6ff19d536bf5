// Package instrument is make lab-0: the instrument measured before the
// server. Three measurements, in one report:
//
//   - the noise floor: the fixed server against itself (an A/A comparison
//     of the lab runner), so a reader knows how large a difference chance
//     makes on this machine;
//   - the load generator's own ceiling: the do-nothing server's req/s and
//     the CPU the load generator spends per request;
//   - closed loop against open loop, on a real stall of this server: lab
//     3's baseline statistics hold their lock while a slow /stats reader
//     drains the answer, and every ingest request waits. A closed-loop load
//     generator (capacity mode) waits for each answer, so during a stall it
//     stops sending and the stall hides from its percentiles (coordinated
//     omission); an open-loop one (latency mode, a constant rate) keeps
//     sending, and every request that arrives during the stall waits. The
//     same measurement of the server with lab 3's fix is the control.
package instrument

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/runner"
)

// Config is one make lab-0 run.
type Config struct {
	Bench *runner.Bench
	// Load is the clients and bodies of every leg (capacity mode); its
	// Requests are sized here.
	Load load.Spec
	// Pairs of the A/A comparison.
	Pairs int
	// Rounds of the closed- and open-loop legs, each round in the other
	// order.
	Rounds int
}

// Result is what Run measured.
type Result struct {
	Started  time.Time
	Machine  string
	Database string
	Commit   string
	Load     load.Spec
	AA       *runner.Report  // the all-solution server against itself
	Ceiling  *runner.Ceiling // the do-nothing server
	Loops    []Loop          // closed and open loop, the stalled server and its control
	// OpenRate is the open-loop legs' rate: a share of what the stalled
	// server served closed-loop, so it keeps up between stalls.
	OpenRate    int
	StatsReader string // the /stats readers beside every loop leg
	ElapsedSecs float64
}

// Loop is one server measured closed-loop and open-loop, a leg of each per
// round.
type Loop struct {
	Server         string // what it is, for people
	Stages         string
	Closed, Open   []load.Result
	ClosedRequests int // the work of each closed-loop leg
	OpenRequests   int // the work of each open-loop leg
}

// openLoopClients bounds the open-loop legs' connections: enough that a
// stall of the server never leaves the load generator without a free
// client (which would make it wait, closing the loop again).
const openLoopClients = 1000

// openShare is the open-loop rate, as a share of the stalled server's
// closed-loop req/s: below capacity, so a queue forms only in a stall.
const openShare = 0.6

// statsReaders are the fast /stats clients beside every loop leg (and one
// slow one, load.StatsReaders): lab 3's load.
const statsReaders = 3

// Run measures the instrument and writes lab0.json, lab0.md and lab0.html
// to cfg.Bench.OutDir, beside the A/A comparison's report and profiles.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	start := time.Now()
	b := cfg.Bench
	res := &Result{Started: start, Commit: b.Commit, Load: cfg.Load, Database: strings.TrimPrefix(b.DB.String(), "database: "),
		StatsReader: fmt.Sprintf("%d fast GET /stats clients and one slow one (512 bytes every 20 ms)", statsReaders)}
	fixed := labs.Fix(labs.StagedNumbers()...).Flag()

	// 1. The noise floor.
	b.Progressf("lab 0: the fixed server against itself (A/A), %d pairs", cfg.Pairs)
	aa, err := b.Compare(ctx, runner.Comparison{
		Title: "lab 0 (00-measure): the fixed server against itself", Slug: "00-measure", Trick: "A/A: the same server on both sides", Claim: "every row noise", Profile: "cpu",
		A:       &runner.Side{Name: "before", Impl: labs.Solution, Stages: fixed},
		B:       &runner.Side{Name: "after", Impl: labs.Solution, Stages: fixed},
		Options: runner.Options{Pairs: cfg.Pairs, Work: runner.Work{Load: cfg.Load}, MinLegSeconds: 2},
	})
	if err != nil {
		return nil, fmt.Errorf("the A/A comparison: %w", err)
	}
	res.AA, res.Machine = aa, aa.Machine

	// 2. The load generator's own ceiling.
	ce := cfg.Load
	ce.Requests = 30_000
	if res.Ceiling, err = b.Ceiling(ctx, ce, 3); err != nil {
		return nil, fmt.Errorf("the load generator's ceiling: %w", err)
	}

	// 3. Closed loop against open loop, on the stall and without it.
	c3 := labs.Fix(labs.StagedNumbers()...)
	c3[labs.ByStage("Stats").Number] = labs.Baseline
	res.Loops = []Loop{
		{Server: "lab 3 at its baseline (the stall: /stats holds the lock while a slow reader drains it)", Stages: c3.Flag()},
		{Server: "the fixed server (the control: lab 3's fix, no stall)", Stages: fixed},
	}
	closed := cfg.Load
	closed.Requests = runner.SizeWork(runner.Median(rates(aa.B.Legs)), 3)
	for i := range res.Loops {
		res.Loops[i].ClosedRequests = closed.Requests
	}
	rounds := max(1, cfg.Rounds)
	// Closed-loop legs first, all of them: their rate sets the open one.
	for r := range rounds {
		for j := range res.Loops {
			l := &res.Loops[(j+r)%len(res.Loops)]
			b.Progressf("lab 0: closed loop (%d clients, as fast as answered), round %d/%d: %s", closed.Workers, r+1, rounds, l.Server)
			leg, err := b.Leg(ctx, &runner.Side{Name: "closed", Stages: l.Stages}, runner.Work{Load: closed, StatsReaders: statsReaders}, fmt.Sprintf("closed%d", r))
			if err != nil {
				return nil, err
			}
			l.Closed = append(l.Closed, leg.Load)
		}
	}
	stalled := []float64{}
	for _, c := range res.Loops[0].Closed {
		stalled = append(stalled, c.ReqPerSec)
	}
	res.OpenRate = max(1, int(openShare*slices.Min(stalled)))
	open := cfg.Load
	open.Mode, open.Rate, open.Workers = load.Latency, res.OpenRate, openLoopClients
	open.Requests = runner.SizeWork(float64(res.OpenRate), 4)
	for r := range rounds {
		for j := range res.Loops {
			l := &res.Loops[(j+r)%len(res.Loops)]
			l.OpenRequests = open.Requests
			b.Progressf("lab 0: open loop (%d req/s, whatever the answers), round %d/%d: %s", open.Rate, r+1, rounds, l.Server)
			leg, err := b.Leg(ctx, &runner.Side{Name: "open", Stages: l.Stages}, runner.Work{Load: open, StatsReaders: statsReaders}, fmt.Sprintf("open%d", r))
			if err != nil {
				return nil, err
			}
			l.Open = append(l.Open, leg.Load)
		}
	}
	res.ElapsedSecs = time.Since(start).Seconds()
	return res, runner.WriteFiles(b.OutDir, "lab0", res, res.WriteText, page)
}

func rates(legs []runner.Leg) []float64 {
	var out []float64
	for _, l := range legs {
		out = append(out, l.Load.ReqPerSec)
	}
	return out
}

func ms(d time.Duration) string { return runner.Num(float64(d) / float64(time.Millisecond)) }

// WriteText prints the report: the noise floor, the ceiling, the loops.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "# lab 0: the instrument, measured first\n\n- measured: %s, %s\n- database: %s\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Machine, r.Database)
	if r.Commit != "" {
		fmt.Fprintf(w, "- code: %s\n", r.Commit)
	}
	fmt.Fprintf(w, "- load: %d clients, %d lines per request\n\n", r.Load.Workers, r.Load.Lines)
	if a := r.AA; a != nil {
		fmt.Fprintf(w, "## 1. Noise: the fixed server against itself\n\nBoth sides run `-stages %s`; %d pairs of %d requests, alternating in a balanced order. Every difference below is chance: the noise floor of a comparison on this machine.\n\n", a.A.Stages, a.Pairs, a.Load.Requests)
		fmt.Fprintf(w, "| metric | side A (median) | side B (median) | B/A: median of pair ratios [min–max] | verdict (Mann-Whitney U, α=0.05) |\n|---|---|---|---|---|\n")
		significant := 0
		for _, m := range a.Metrics {
			fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s |\n", m.Name, m.Unit, runner.Num(m.MedianA), runner.Num(m.MedianB), m.RatioText(), m.Verdict())
			if m.Significant {
				significant++
			}
		}
		fmt.Fprintf(w, "\n%d of %d rows called significant by chance (at α = 0.05 about one row in twenty is, on average). The throughput row's [min–max] is how far apart two runs of the same server land here: a gain inside it is no gain.\n\n", significant, len(a.Metrics))
	}
	if ce := r.Ceiling; ce != nil {
		fmt.Fprintf(w, "## 2. The load generator's own ceiling\n\n")
		ce.WriteText(w)
		fmt.Fprintln(w)
	}
	if len(r.Loops) > 0 {
		fmt.Fprintf(w, "## 3. Closed loop against open loop, the same stall\n\nBeside every leg: %s. Closed loop: %d clients, each sending its next request when the last is answered (capacity mode). Open loop: %d requests a second whatever the answers (latency mode; up to %d connections, so a stall never leaves it without one), %.0f%% of what the stalled server served closed-loop at its slowest. One leg of each per round, %d round(s).\n\n",
			r.StatsReader, r.Load.Workers, r.OpenRate, openLoopClients, 100*openShare, len(r.Loops[0].Closed))
		fmt.Fprintf(w, "| server | closed loop: req/s | closed: p50 / p99 / max (ms) | open loop: p50 / p99 / max (ms) |\n|---|---|---|---|\n")
		for _, l := range r.Loops {
			var cr, cl, ol []string
			for i, c := range l.Closed {
				cr = append(cr, runner.Num(c.ReqPerSec))
				cl = append(cl, fmt.Sprintf("%s / %s / %s", ms(c.P50), ms(c.P99), ms(c.Max)))
				if i < len(l.Open) {
					o := l.Open[i]
					ol = append(ol, fmt.Sprintf("%s / %s / %s", ms(o.P50), ms(o.P99), ms(o.Max)))
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", l.Server, strings.Join(cr, "; "), strings.Join(cl, "; "), strings.Join(ol, "; "))
		}
		if len(r.Loops) == 2 {
			p99 := func(rs []load.Result) float64 {
				var v []float64
				for _, x := range rs {
					v = append(v, float64(x.P99))
				}
				return runner.Median(v)
			}
			st, ct := r.Loops[0], r.Loops[1]
			if c, o := p99(ct.Closed), p99(ct.Open); c > 0 && o > 0 {
				fmt.Fprintf(w, "\nThe stall's p99 against the control's (medians of the rounds): closed loop %.1fx, open loop %.1fx.", p99(st.Closed)/c, p99(st.Open)/o)
			}
		}
		fmt.Fprintf(w, "\nRounds are separated by \"; \". A closed loop measures the requests it managed to send: while the server stalls, its %d clients wait and send nothing, so the stall is a few slow requests among many. An open loop measures the requests a steady stream of users would have sent: every one that arrives during the stall waits.\n", r.Load.Workers)
	}
}

var page = template.Must(template.New("lab0").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>flamelab lab 0: the instrument</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}</style></head><body>
<h1>lab 0: the instrument, measured first</h1>
<p>The A/A comparison's own report, with its flame graphs (make flame-0 opens them in pprof): <a href="report.html">report.html</a>.</p>
<pre style="white-space:pre-wrap;font-size:12px">{{.Text}}</pre>
</body></html>
`))

// Text is WriteText's output, for the HTML page.
func (r *Result) Text() string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}
