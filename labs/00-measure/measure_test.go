package measure_test

import (
	"testing"

	"github.com/flamelab/flamelab/labs/00-measure/subject"
	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// TestSubject: the subject parses every line of every body, and counts its
// calls, which the budgets rely on.
func TestSubject(t *testing.T) {
	subject.Reset()
	for i, body := range subject.Bodies(64) {
		evs, err := subject.Parse(body)
		if err != nil || len(evs) != subject.Lines {
			t.Fatalf("body %d: %d events, %v; want %d", i, len(evs), err, subject.Lines)
		}
	}
	if got := subject.Calls(); got != 64 {
		t.Errorf("Calls() = %d after 64 parses", got)
	}
}

// TestBenchmarksRun: every implementation's benchmark runs to the end
// (a benchmark that fails or stops early measures nothing).
func TestBenchmarksRun(t *testing.T) {
	for _, impl := range labtest.Under(t, impls) {
		t.Run(string(impl.Name), func(t *testing.T) {
			if r := testing.Benchmark(impl.Of); r.N == 0 {
				t.Errorf("%s: its benchmark failed or never ran", impl.Name)
			}
		})
	}
}
