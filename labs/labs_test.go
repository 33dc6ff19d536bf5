package labs_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
)

var inCI = os.Getenv("CI") == "true"

// pristine reports whether lab l's exercise is still the baseline, as make
// reset-N writes it: same files, with only the package clause and the first
// line of the package comment changed.
func pristine(t *testing.T, l *labs.Lab) bool {
	t.Helper()
	header := regexp.MustCompile(`(?m)^(package \w+|// Package \w+ is.*)$`)
	base, _ := filepath.Glob(filepath.Join("..", l.Path(), "baseline", "*.go"))
	ex, _ := filepath.Glob(filepath.Join("..", l.Path(), "exercise", "*.go"))
	if len(base) != len(ex) {
		return false
	}
	for _, b := range base {
		want, _ := os.ReadFile(b)
		got, err := os.ReadFile(filepath.Join(filepath.Dir(filepath.Dir(b)), "exercise", filepath.Base(b)))
		if err != nil || !bytes.Equal(header.ReplaceAll(want, nil), header.ReplaceAll(got, nil)) {
			return false
		}
	}
	return true
}

// TestExercisesStartAsBaseline: the exercise a learner checks out is the
// baseline. Outside CI an edited exercise is the learner's work, not a bug.
func TestExercisesStartAsBaseline(t *testing.T) {
	for _, l := range labs.All {
		if !l.Has(labs.Exercise) {
			continue
		}
		if !pristine(t, l) {
			if inCI {
				t.Errorf("%s/exercise differs from its baseline; run make reset-%d before committing", l.Path(), l.Number)
			} else {
				t.Logf("%s/exercise has been edited (your work); make reset-%d restores it", l.Path(), l.Number)
			}
		}
	}
}

// TestCheckFailsOnPristineExercise runs what make check-N runs: on the
// pristine exercise it must fail, pointing the learner at a profile; on the
// solution the same tests must pass. A check that cannot fail would teach
// nothing.
func TestCheckFailsOnPristineExercise(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in a subprocess")
	}
	for _, l := range labs.All {
		if !l.Has(labs.Exercise) || !l.Has(labs.Solution) {
			continue
		}
		if !pristine(t, l) {
			t.Logf("%s/exercise has been edited; this check needs the pristine one", l.Path())
			continue
		}
		t.Run(l.Slug, func(t *testing.T) {
			run := func(impl string) (string, error) {
				cmd := exec.Command("go", "test", "-count=1", "./"+l.Path()+"/")
				cmd.Dir = ".."
				cmd.Env = append(os.Environ(), "FLAMELAB_IMPL="+impl)
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			out, err := run("exercise")
			if err == nil {
				t.Fatalf("the lab's tests pass on the pristine exercise: its budgets test nothing\n%s", out)
			}
			if !strings.Contains(out, fmt.Sprintf("make flame-%d", l.Number)) {
				t.Errorf("the failure does not point the learner at a profile (make flame-%d):\n%s", l.Number, out)
			}
			if out, err := run("solution"); err != nil {
				t.Errorf("the lab's tests fail on the solution:\n%s", out)
			}
		})
	}
}
