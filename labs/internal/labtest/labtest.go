// Package labtest holds what every lab's tests share: which implementations
// are under test, and how a budget test talks to the learner.
package labtest

import (
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
