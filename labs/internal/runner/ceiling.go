package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/load"
)

// Ceiling is the instrument, measured before anything it measures: the
// load generator against the server that does nothing (-discard, proven on
// every leg to store, audit, fsync and ask the database nothing), with the
// clients and bodies of the labs. Its req/s is the most any server can be
// measured at on this machine with this load generator; its CPU per request
// is what the load generator takes from the cores it shares with the server
// and Postgres.
type Ceiling struct {
	Started time.Time
	Machine string
	Load    load.Spec
	Cores   int
	Legs    []Leg
	// Medians over the legs: req/s, and CPU ms per request of the load
	// generator and of the do-nothing server.
	ReqPerSec, LoadMS, ServerMS float64
	// LoadCeiling: Cores / LoadMS, the req/s the load generator could not
	// exceed here even with every core to itself.
	LoadCeiling float64
}

// Ceiling runs legs legs of spec against the do-nothing server, with the
// CPU of each process measured.
func (b *Bench) Ceiling(ctx context.Context, spec load.Spec, legs int) (*Ceiling, error) {
	if err := os.MkdirAll(b.OutDir, 0o755); err != nil {
		return nil, err
	}
	ce := &Ceiling{Started: time.Now(), Machine: machine(), Load: spec, Cores: runtime.NumCPU()}
	w := Work{Load: spec, ProcessCPU: true}
	var rps, ld, srv []float64
	for i := range legs {
		b.Progressf("ceiling: leg %d/%d: the do-nothing server", i+1, legs)
		leg, err := b.Leg(ctx, &Side{Name: "nothing", Stages: labs.Fix().Flag(), Args: []string{"-discard"}}, w, fmt.Sprintf("ceiling%d", i))
		if err != nil {
			return nil, err
		}
		ce.Legs = append(ce.Legs, leg)
		rps, ld, srv = append(rps, leg.Load.ReqPerSec), append(ld, leg.CPU.LoadMS), append(srv, leg.CPU.ServerMS)
	}
	ce.ReqPerSec, ce.LoadMS, ce.ServerMS = Median(rps), Median(ld), Median(srv)
	ce.LoadCeiling = CPUBudget(ce.Cores, ce.LoadMS)
	return ce, nil
}

// WriteText prints the ceiling's table and what it means.
func (ce *Ceiling) WriteText(w io.Writer) {
	fmt.Fprintf(w, "the instrument first: the load generator against a server that does nothing (-discard)\n")
	fmt.Fprintf(w, "measured %s, %s\n", ce.Started.UTC().Format("2006-01-02 15:04 MST"), ce.Machine)
	fmt.Fprintf(w, "%d legs of %d requests, %d clients, %d lines per request (the labs' load)\n\n", len(ce.Legs), ce.Load.Requests, ce.Load.Workers, ce.Load.Lines)
	fmt.Fprintf(w, "%-5s %10s %9s %9s %15s %15s %12s  %s\n", "leg", "req/s", "p50 ms", "p99 ms", "load gen ms/req", "server ms/req", "cores busy", "did nothing (rows, round trips, fsyncs)")
	for i, l := range ce.Legs {
		fmt.Fprintf(w, "%-5d %10s %9s %9s %15.3f %15.3f %11.0f%%  yes (%d, %d, %d)\n", i+1, Num(l.Load.ReqPerSec), Num(ms(l.Load.P50)), Num(ms(l.Load.P99)),
			l.CPU.LoadMS, l.CPU.ServerMS, 100*l.CPU.Busy, l.Rows, l.RoundTrips, l.Fsyncs)
	}
	var rps []float64
	for _, l := range ce.Legs {
		rps = append(rps, l.Load.ReqPerSec)
	}
	fmt.Fprintf(w, "\nmedian %s req/s [%s–%s]; the load generator spends %.3f ms of CPU per request, the do-nothing server %.3f ms.\n",
		Num(ce.ReqPerSec), Num(slices.Min(rps)), Num(slices.Max(rps)), ce.LoadMS, ce.ServerMS)
	fmt.Fprintf(w, "With %d cores, the load generator alone could not send more than %s req/s (cores / its CPU per request):\n", ce.Cores, Num(ce.LoadCeiling))
	fmt.Fprintf(w, "no server can be measured faster than %s req/s here, and a server measured near it is measuring the instrument.\n", Num(ce.ReqPerSec))
}

// CPUBudget is the most req/s the machine's cores allow at the given CPU
// per request (ms) of the server, Postgres and the load generator.
func CPUBudget(cores int, msPerReq float64) float64 {
	if msPerReq <= 0 {
		return 0
	}
	return float64(cores) * 1000 / msPerReq
}
