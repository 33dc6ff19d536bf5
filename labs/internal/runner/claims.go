package runner

import (
	"fmt"

	"github.com/flamelab/flamelab/labs"
)

// Verdicts of a claim against a measurement.
const (
	Confirmed = "confirmed"
	Smaller   = "smaller here"
	NotSeen   = "not seen here"
	NoRun     = "not measured yet"
)

// Judge holds one number of a claim against a report: confirmed when the
// difference is significant and at least as large as claimed (within 10%),
// smaller when significant but short of it, not seen when noise.
func Judge(c labs.Check, rep *Report) (verdict, measured string) {
	if c.Metric == StageShare {
		a, b := rep.A.StageShare.Cum, rep.B.StageShare.Cum
		if a == 0 {
			return NoRun, "no stage share in the report"
		}
		measured = fmt.Sprintf("stage share %.1f%% → %.1f%% (%.2fx; profiled legs, no test of significance)", 100*a, 100*b, b/a)
		if b/a <= c.Ratio/0.9 {
			return Confirmed, measured
		}
		return Smaller, measured
	}
	for _, m := range rep.Metrics {
		if m.Name != c.Metric {
			continue
		}
		measured = fmt.Sprintf("%s %s → %s %s (%s, %s)", m.Name, Num(m.MedianA), Num(m.MedianB), m.Unit, m.RatioText(), m.Verdict())
		if !m.Significant {
			return NotSeen, measured
		}
		switch {
		case c.LessMS > 0:
			if m.MedianA-m.MedianB >= c.LessMS {
				return Confirmed, measured
			}
		case c.Ratio >= 1 && m.Ratio >= c.Ratio*0.9, c.Ratio < 1 && m.Ratio <= c.Ratio/0.9:
			return Confirmed, measured
		}
		if (c.Ratio >= 1 && m.Ratio > 1) || (c.Ratio < 1 && m.Ratio < 1) || (c.LessMS > 0 && m.MedianB < m.MedianA) {
			return Smaller, measured
		}
		return NotSeen, measured
	}
	return NoRun, "the report has no row " + c.Metric
}
