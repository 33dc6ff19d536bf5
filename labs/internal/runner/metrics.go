package runner

import (
	"slices"
	"time"

	"github.com/flamelab/flamelab/labs/internal/compare"
)

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
	hasSweep = func(l Leg) bool { return l.Sweep != nil }
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
	{"batches in flight", "mean COPYs", true, func(l Leg) float64 { return l.CopiesInFlight }, nil},
	{"goroutines created", "per request", false, func(l Leg) float64 { return l.GoroutinesPerReq }, nil},
	{"scheduler latency p99", "µs", false, func(l Leg) float64 { return l.SchedP99 }, nil},
	{"mutex wait", "µs per request", false, func(l Leg) float64 { return l.MutexWaitPerReq }, nil},
	{"server CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.ServerMS }, hasCPU},
	{"Postgres CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.PostgresMS }, hasCPU},
	{"load generator CPU", "ms per request", false, func(l Leg) float64 { return l.CPU.LoadMS }, hasCPU},
	{"cores busy", "share of all", false, func(l Leg) float64 { return l.CPU.Busy }, hasCPU},
	{"server peak memory", "MB resident", false, func(l Leg) float64 { return l.CPU.ServerPeakMB }, hasCPU},
	{"/stats latency p99", "ms", false, func(l Leg) float64 { return ms(l.Stats.P99) }, hasStats},
	{"/stats reads", "per leg", true, func(l Leg) float64 { return float64(l.Stats.Reads) }, hasStats},
	{"read throughput", "req/s", true, func(l Leg) float64 { return l.Reads.ReqPerSec }, hasReads},
	{"read latency p99", "ms", false, func(l Leg) float64 { return ms(l.Reads.P99) }, hasReads},
	{"latency p99, worst second", "ms", false, func(l Leg) float64 { return ms(l.Load.WorstSecondP99) }, hasSweep},
	{"latency max", "ms", false, func(l Leg) float64 { return ms(l.Load.Max) }, hasSweep},
	{"key sweep", "seconds", false, func(l Leg) float64 { return l.Sweep.Seconds }, hasSweep},
	{"flight-recorder snapshots", "per leg", false, func(l Leg) float64 { return float64(l.Snapshots) }, hasSweep},
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
			m.Result = compare.Result{MedianA: Median(m.A), MedianB: Median(m.B), P: 1}
			m.NoRatio = true
			m.Warnings = append(m.Warnings, err.Error())
		}
		out = append(out, m)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Median is the median of v, 0 for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
