// Package claims writes docs/claims.md: each of the article's claims
// against the latest measurement of it, from every lab's report and the
// capstone's, with a verdict (runner.Judge) and the run it read.
package claims

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/capstone"
	"github.com/flamelab/flamelab/labs/internal/runner"
)

// Write writes docs/claims.md's content from the report of every lab
// and the capstone's: dir maps "lab-N" or "capstone" to the directory of
// the run to read (the latest, or a reference capture); source says which
// runs those are, for the page.
func Write(w io.Writer, dir func(name string) string, source, commit string) error {
	fmt.Fprintf(w, "# The article's claims against our measurements\n\n")
	fmt.Fprintf(w, "Written by `make claims` (code %s) from %s. Each row says which run it read. A verdict is **confirmed** when the difference is significant (Mann-Whitney U, α = 0.05, over the pairs) and at least as large as claimed, within 10%%; **smaller here** when significant but short of the claim; **not seen here** when it is noise. Why a figure differs from the article is in each lesson's section 7.\n\n", commit, source)
	fmt.Fprintf(w, "| lab | the article's claim | our measurement | verdict | run |\n|---|---|---|---|---|\n")
	for _, l := range labs.All {
		if len(l.Checks) == 0 {
			continue // no claim of the article's to check (lab 00)
		}
		var rep runner.Report
		err := runner.ReadJSON(filepath.Join(dir(fmt.Sprintf("lab-%d", l.Number)), "report.json"), &rep)
		switch {
		case err != nil:
			fmt.Fprintf(w, "| %d %s | %s | no report: run `make lab-%d` | %s | |\n", l.Number, l.Slug, l.Claim, l.Number, runner.NoRun)
			continue
		case rep.B == nil || rep.B.Impl != labs.Solution:
			fmt.Fprintf(w, "| %d %s | %s | the latest report is not baseline against solution: run `make lab-%d` | %s | |\n", l.Number, l.Slug, l.Claim, l.Number, runner.NoRun)
			continue
		}
		run := fmt.Sprintf("%s, %s, %d pairs of %d requests%s", rep.Started.UTC().Format("2006-01-02 15:04 MST"), rep.Machine, rep.Pairs, rep.Load.Requests, commitNote(rep.Commit))
		for i, c := range l.Checks {
			v, m := runner.Judge(c, &rep)
			claim := l.Claim
			if i > 0 {
				claim = "″"
			}
			fmt.Fprintf(w, "| %d %s | %s | %s | %s | %s |\n", l.Number, l.Slug, claim, m, v, run)
		}
	}
	var cs capstone.Result
	err := runner.ReadJSON(filepath.Join(dir("capstone"), "capstone.json"), &cs)
	if err != nil || cs.Compare == nil {
		fmt.Fprintf(w, "| capstone | 30x, the whole server | no capstone report: run `make capstone` | %s | |\n", runner.NoRun)
		return nil
	}
	v, m := runner.Judge(labs.Check{Metric: "throughput", Ratio: 30}, cs.Compare)
	var ceilings []string
	if base := firstMedian(cs.Article); base > 0 {
		if len(cs.CopyReqs) > 0 {
			ceilings = append(ceilings, fmt.Sprintf("the database's COPY of the same rows allows at most %.1fx", runner.Median(cs.CopyReqs)/base))
		}
		if len(cs.HTTP) > 0 {
			ceilings = append(ceilings, fmt.Sprintf("a server doing nothing reaches %.1fx", runner.Median(cs.HTTP)/base))
		}
	}
	ceiling := ""
	if len(ceilings) > 0 {
		ceiling = fmt.Sprintf("; with %d clients %s", cs.Load.Workers, strings.Join(ceilings, ", "))
	}
	var bestB, bestS float64
	for _, p := range cs.Sweep {
		bestB, bestS = max(bestB, p.Baseline), max(bestS, p.Solution)
	}
	if bestB > 0 {
		ceiling += fmt.Sprintf("; at capacity (the best of a sweep of 8 to 128 clients) %.1fx", bestS/bestB)
	}
	fmt.Fprintf(w, "| capstone | 1,000 → 30,000 req/s (30x), the whole server | %s%s | %s | %s, %s%s |\n", m, ceiling, v,
		cs.Started.UTC().Format("2006-01-02 15:04 MST"), cs.Machine, commitNote(cs.Commit))
	return nil
}

func commitNote(c string) string {
	if c == "" {
		return ""
	}
	return ", code " + strings.TrimSpace(c)
}

func firstMedian(steps []capstone.Step) float64 {
	if len(steps) == 0 {
		return 0
	}
	return steps[0].Median
}
