// Package labtest holds what every lab's tests share: which implementations
// are under test (Under, Budgeted), and how a budget test talks to the
// learner (Budget, Judge).
//
// A budget is a count, never a time: allocations per line, fsyncs per record,
// round trips per request, a function's share of a profile over a fixed amount
// of work. Judge measures the baseline every time, so each failure can say how
// far the learner has come, and so a budget the baseline meets, one that tests
// nothing, fails the suite:
//
//	func TestFsyncBudget(t *testing.T) {
//		labtest.Judge(t, fsyncBudget, all, func(t *testing.T, impl labtest.Impl[NewFunc]) labtest.Count {
//			o := drive(t, impl.Of, 16, 25)
//			return labtest.Count{Value: float64(o.syncs)}
//		})
//	}
package labtest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
)

// EnvImpl selects the implementations a lab's tests judge, comma-separated
// (make check-N sets it to "exercise"). Unset means all of them.
const EnvImpl = "FLAMELAB_IMPL"

// Impl is one implementation of a stage, with its name.
type Impl[T any] struct {
	Name labs.Impl
	Of   T
}

// Under returns the implementations to test, in the order baseline,
// exercise, solution: those named by FLAMELAB_IMPL, or all of all.
func Under[T any](tb testing.TB, all map[labs.Impl]T) []Impl[T] {
	tb.Helper()
	want := map[labs.Impl]bool{}
	if env := os.Getenv(EnvImpl); env != "" {
		for name := range strings.SplitSeq(env, ",") {
			name = strings.TrimSpace(name)
			if _, ok := all[labs.Impl(name)]; !ok {
				tb.Fatalf("%s=%q: this lab has no %q; it has baseline, exercise and solution", EnvImpl, env, name)
			}
			want[labs.Impl(name)] = true
		}
	}
	var out []Impl[T]
	for _, name := range []labs.Impl{labs.Baseline, labs.Exercise, labs.Solution} {
		if of, ok := all[name]; ok && (len(want) == 0 || want[name]) {
			out = append(out, Impl[T]{Name: name, Of: of})
		}
	}
	return out
}

// Budgeted is Under for budget tests. Without FLAMELAB_IMPL it leaves out
// the exercise: a pristine exercise is the baseline and fails every budget
// by design, and the whole suite must pass. make check-N names the exercise
// explicitly, and then it is judged like any other implementation.
func Budgeted[T any](tb testing.TB, all map[labs.Impl]T) []Impl[T] {
	tb.Helper()
	impls := Under(tb, all)
	if os.Getenv(EnvImpl) != "" {
		return impls
	}
	out := impls[:0:0]
	for _, impl := range impls {
		if impl.Name == labs.Exercise {
			tb.Logf("the exercise's budget is judged by make check-N (%s=exercise), not by the full suite", EnvImpl)
			continue
		}
		out = append(out, impl)
	}
	return out
}

// NeedsNoRace skips t under the race detector, saying why. It is for budgets
// the detector distorts: it slows memory accesses unevenly (a CPU profile's
// shares), and it makes sync.Pool drop items at random (allocation counts of
// a pooled reader). Such a test must be named ...Budget...: make test runs
// every Budget test a second time without -race, so it is never only
// skipped.
func NeedsNoRace(t *testing.T, why string) {
	t.Helper()
	if RaceEnabled {
		t.Skip(why + "; make test and make check-N judge it in their pass without -race")
	}
}

// Budget is one of a lab's budgets: a count the fix must keep within its
// limit, and the baseline must exceed.
type Budget struct {
	Lab   int    // the lab's number, for the make targets in messages
	Count string // what is counted over what fixed work, e.g. "fsyncs per record (16 concurrent writers)"
	// Max is the limit. When OfBaseline is set instead, the limit is that
	// fraction of the baseline's count: for counts that depend on the
	// machine, such as a share of a CPU profile.
	Max        float64
	OfBaseline float64
	// Min, for a count of which more is better (lab 08's batches in
	// flight), is the least it must reach; the baseline must stay under it.
	// Set Min or Max, not both.
	Min float64
	// Premise, if set, is the least the baseline must count for the lesson
	// to hold (e.g. "the parser is the hot spot"); below it the test fails
	// and says so.
	Premise float64
	Format  func(float64) string // how to print a count; Plain by default

	Why     string // why the slow code is over the limit, in one sentence
	Profile string // the capture that shows it: make flame-N PROFILE=<Profile>; empty: none does
	Look    string // what to look for there, or (without Profile) how else to see it
	Read    string // where the lesson helps, e.g. "labs/05-blocking/README.md, hints 1 and 2"
}

// Count is one implementation's measured count, with what a learner may want
// to see beside it (e.g. the round trips by kind).
type Count struct {
	Value  float64
	Detail string
}

// Plain prints a count with up to three decimals.
func Plain(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// Percent prints a share as a percentage.
func Percent(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

// Judge measures the baseline, then every implementation Budgeted picks, and
// holds each to b: the baseline must be over the limit (or the budget tests
// nothing), every other implementation within it. Each is a subtest named
// after the implementation; every line it prints has the same shape.
func Judge[T any](t *testing.T, b Budget, all map[labs.Impl]T, measure func(t *testing.T, impl Impl[T]) Count) {
	t.Helper()
	format := b.Format
	if format == nil {
		format = Plain
	}
	base, ok := all[labs.Baseline]
	if !ok {
		t.Fatal("labtest.Judge: the lab has no baseline to compare with")
	}
	var baseline Count
	t.Run(string(labs.Baseline), func(t *testing.T) {
		baseline = measure(t, Impl[T]{Name: labs.Baseline, Of: base})
	})
	if t.Failed() {
		return
	}
	limit, most, over := b.Max, "at most", func(v, limit float64) bool { return v > limit }
	if b.OfBaseline > 0 {
		limit = b.OfBaseline * baseline.Value
	}
	if b.Min > 0 {
		limit, most, over = b.Min, "at least", func(v, limit float64) bool { return v < limit }
	}
	t.Logf("budget: %s: %s %s (the baseline: %s%s)", b.Count, most, format(limit), format(baseline.Value), detail(baseline))
	if b.Premise > 0 && baseline.Value < b.Premise {
		t.Errorf("the baseline's %s is %s, under the %s the lesson starts from: its premise does not hold on this run;\n"+
			"rerun on a quieter machine, and if it persists, the lesson and the budget need revisiting", b.Count, format(baseline.Value), format(b.Premise))
	}
	if b.OfBaseline == 0 && !over(baseline.Value, limit) {
		t.Errorf("the baseline's %s is %s, within the budget of %s: the budget no longer tests anything", b.Count, format(baseline.Value), format(limit))
	}
	for _, impl := range Budgeted(t, all) {
		if impl.Name == labs.Baseline {
			continue
		}
		t.Run(string(impl.Name), func(t *testing.T) {
			got := measure(t, impl)
			if t.Failed() {
				return
			}
			t.Logf("%s: %s%s (budget %s %s, baseline %s)", impl.Name, format(got.Value), detail(got), most, format(limit), format(baseline.Value))
			if over(got.Value, limit) {
				next := fmt.Sprintf("see where it goes on the server: make lab-%d IMPL=%s (a few minutes; QUICK=1 on a busy machine) captures your code's profiles as the after side, then make flame-%d PROFILE=%s: %s",
					b.Lab, impl.Name, b.Lab, b.Profile, b.Look)
				if b.Profile == "" {
					next = b.Look // a budget no profile shows (lab 00's, of a benchmark)
				}
				t.Errorf("%s: %s; the budget for %s is %s %s (the baseline: %s).\nWhy: %s\nNext: %s\nRead: %s",
					impl.Name, format(got.Value), b.Count, most, format(limit), format(baseline.Value), b.Why, next, b.Read)
			}
		})
	}
}

func detail(c Count) string {
	if c.Detail == "" {
		return ""
	}
	return " (" + c.Detail + ")"
}

// FirstDiff says where got first differs from want, with the bytes around
// it on both sides: "first difference at byte 1234 (line 3, column 17):
// got …"x":1}… want …"x":2}…". Printing two long outputs whole, or their
// first bytes, hides the one place that matters.
func FirstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	if i == len(got) && i == len(want) {
		return "no difference"
	}
	line := strings.Count(want[:i], "\n") + 1
	col := i - strings.LastIndexByte(want[:i], '\n')
	around := func(s string) string {
		lo, hi := max(0, i-30), min(len(s), i+30)
		out := fmt.Sprintf("%q", s[lo:hi])
		if lo > 0 {
			out = "…" + out
		}
		if hi < len(s) {
			out += "…"
		}
		if i >= len(s) {
			out += " (ends here)"
		}
		return out
	}
	return fmt.Sprintf("first difference at byte %d (line %d, column %d) of %d and %d bytes:\n got %s\nwant %s", i, line, col, len(got), len(want), around(got), around(want))
}
