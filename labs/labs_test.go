package labs_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
)

var inCI = os.Getenv("CI") == "true"

// pristine reports whether lab l's exercise is still the baseline, as make
// reset-N writes it: the same code files, with only the package clause
// renamed (the exercise's doc.go is its own).
func pristine(t *testing.T, l *labs.Lab) bool {
	t.Helper()
	want, err := l.PristineExercise("..")
	if err != nil {
		t.Fatal(err)
	}
	have, _ := filepath.Glob(filepath.Join("..", l.Path(), "exercise", "*.go"))
	if len(have) != len(want)+1 { // + doc.go
		return false
	}
	for name, code := range want {
		got, err := os.ReadFile(filepath.Join("..", l.Path(), "exercise", name))
		if err != nil || !bytes.Equal(got, code) {
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
			// A lab about the instrument has no profile to point at; its
			// failures say what to do instead (Next:). A lab whose cause
			// no profile shows (lab 10: the lesson is that the CPU profile
			// misses it) points at the flight recorder's snapshot.
			if next := fmt.Sprintf("make flame-%d", l.Number); l.Stage == "" {
				if !strings.Contains(out, "Next: ") {
					t.Errorf("the failure does not say what to do next:\n%s", out)
				}
			} else if l.Sweeps {
				if !strings.Contains(out, "flight-recorder snapshot") {
					t.Errorf("the failure does not point the learner at the flight recorder's snapshot:\n%s", out)
				}
			} else if !strings.Contains(out, next) {
				t.Errorf("the failure does not point the learner at a profile (%s):\n%s", next, out)
			}
			if out, err := run("solution"); err != nil {
				t.Errorf("the lab's tests fail on the solution:\n%s", out)
			}
		})
	}
}

// TestShape: every lab with an exercise has the shape labs/README.md
// describes, so a newcomer finds the lesson, the slow code, the exercise and
// the fix in the same places in every lab; and the implementations a lab
// declares are the directories it has.
func TestShape(t *testing.T) {
	for _, l := range labs.All {
		dir := filepath.Join("..", l.Path())
		for _, impl := range []labs.Impl{labs.Baseline, labs.Exercise, labs.Solution} {
			_, err := os.Stat(filepath.Join(dir, string(impl)))
			if exists := err == nil; exists != l.Has(impl) {
				t.Errorf("%s: %s/ exists=%v, but the lab declares it=%v (labs.All)", l.Path(), impl, exists, l.Has(impl))
			}
			if _, err := os.Stat(filepath.Join(dir, string(impl), "doc.go")); l.Has(impl) && err != nil {
				t.Errorf("%s/%s has no doc.go: the package doc lives there, so make reset-%d copies code only", l.Path(), impl, l.Number)
			}
		}
		if !l.Has(labs.Exercise) {
			continue // a lab still being written: only its baseline
		}
		for _, f := range []string{"README.md", l.TestFile(), "budget_test.go", "bench_test.go"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s has no %s (labs/README.md, how to add a lab)", l.Path(), f)
			}
		}
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		allowed := map[string]bool{l.TestFile(): true, "budget_test.go": true, "bench_test.go": true, "alternatives_test.go": true}
		for _, f := range tests {
			if !allowed[filepath.Base(f)] {
				t.Errorf("%s: test file %s is not one of the lab shape's (%s, budget_test.go, bench_test.go, alternatives_test.go)", l.Path(), filepath.Base(f), l.TestFile())
			}
		}
		readme, _ := os.ReadFile(filepath.Join("..", "README.md"))
		if !strings.Contains(string(readme), "("+l.Path()+"/README.md)") {
			t.Errorf("README.md's list of labs does not link %s/README.md", l.Path())
		}
		lessonHidesTheAnswer(t, l, filepath.Join(dir, "README.md"))
	}
}

// lessonHidesTheAnswer: a lesson lets the learner find the fix. Its section
// 5 says what to change and how to measure it, and keeps the reference
// fix's design behind a <details> block; before the hints, nothing links the
// solution's code but the header's "read it after you have tried", and the
// header does not link the file of candidates.
func lessonHidesTheAnswer(t *testing.T, l *labs.Lab, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	s := string(b)
	five, six, hints := strings.Index(s, "\n## 5."), strings.Index(s, "\n## 6."), strings.Index(s, "\n## Hints")
	if five < 0 || six < five || hints < six {
		t.Errorf("%s: sections 5, 6 and Hints not found in order", path)
		return
	}
	sec5 := s[five:six]
	if !strings.Contains(sec5, "**What to change.**") || !strings.Contains(sec5, "<details>") {
		t.Errorf("%s: section 5 must open with **What to change.** and keep the answer in a <details> block", path)
	}
	if open := sec5[:strings.Index(sec5+"<details>", "<details>")]; strings.Contains(open, "solution/") {
		t.Errorf("%s: section 5 links the solution before its <details> block", path)
	}
	header := s[:strings.Index(s, "\n## 1.")]
	if strings.Contains(header, "](alternatives_test.go)") {
		t.Errorf("%s: the header links alternatives_test.go, the candidates, before the exercise", path)
	}
}

// TestIsolation: a lab's exercise is compiled only by what concerns that lab.
// It checks the dependency graphs with go list, then breaks exercise 6 in a
// build overlay (the working tree is not touched) and builds what a
// workshop runs.
func TestIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	deps := func(tags string, pkgs ...string) []string {
		t.Helper()
		args := append([]string{"list", "-deps", "-test", "-tags", tags}, pkgs...)
		cmd := exec.Command("go", args...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		var ex []string
		for p := range strings.FieldsSeq(string(out)) {
			if strings.HasSuffix(p, "/exercise") {
				ex = append(ex, p)
			}
		}
		return ex
	}
	if ex := deps("", "./labs/cmd/...", "./labs/internal/..."); len(ex) != 0 {
		t.Errorf("the default server and lab tool link exercises %v: a learner's broken exercise would break every lab", ex)
	}
	for _, l := range labs.Staged() { // a lab without a stage links nothing into the server
		if !l.Has(labs.Exercise) {
			continue
		}
		want := "github.com/flamelab/flamelab/" + l.Path() + "/exercise"
		if ex := deps(l.ExerciseTag(), "./labs/cmd/flamelab-server"); len(ex) != 1 || ex[0] != want {
			t.Errorf("the server built with -tags %s links %v, want exactly %s", l.ExerciseTag(), ex, want)
		}
	}
	server := exec.Command("go", "list", "-deps", "-test", "./server/...")
	server.Dir = ".."
	out, err := server.Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "github.com/flamelab/flamelab/labs") {
		t.Error("package server or its tests depend on a lab; they must use fakes of the stages")
	}

	// Exercise 6 with a syntax error, as in the middle of an exercise.
	broken := filepath.Join(t.TempDir(), "parser.go")
	if err := os.WriteFile(broken, []byte("package exercise\n\nfunc (p Parser) Parse( {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("..", "labs/06-parsing/exercise/parser.go"))
	overlay := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(overlay, fmt.Appendf(nil, `{"Replace":{%q:%q}}`, abs, broken), 0o644); err != nil {
		t.Fatal(err)
	}
	build := func(args ...string) (string, error) {
		cmd := exec.Command("go", append([]string{args[0], "-overlay", overlay}, args[1:]...)...)
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, args := range [][]string{
		{"build", "-o", os.DevNull, "./labs/cmd/flamelab-server"},          // make serve, make lab-M
		{"build", "-o", os.DevNull, "./labs/cmd/flamelab-lab"},             // the lab tool
		{"vet", "./labs/07-batching/", "./labs/05-blocking/", "./server/"}, // check-M compiles its tests
	} {
		if out, err := build(args...); err != nil {
			t.Errorf("with exercise 6 broken, go %s fails:\n%s", strings.Join(args, " "), out)
		}
	}
	out2, err := build("vet", "./labs/06-parsing/")
	if err == nil || !strings.Contains(out2, "parser.go:3") {
		t.Errorf("with exercise 6 broken, its own lab's tests must fail naming the file and line; go vet said (%v):\n%s", err, out2)
	}
	if out, err := build("build", "-tags", "flamelab_exercise6", "-o", os.DevNull, "./labs/cmd/flamelab-server"); err == nil {
		t.Errorf("the server with exercise 6 linked built despite the broken exercise:\n%s", out)
	}
}

// TestAuditFilePrivate: the audit file is created readable by its owner only,
// and never opened through a symlink (whoever can write its directory must
// not point the trail elsewhere).
func TestAuditFilePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	stages, err := labs.Build(labs.Env{AuditPath: path}, labs.Choice{})
	if err != nil {
		t.Fatal(err)
	}
	labs.Close(stages)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	link := filepath.Join(dir, "link.log")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := labs.Build(labs.Env{AuditPath: link}, labs.Choice{}); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("opening the audit trail through a symlink: %v, want an error naming the symlink", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("the symlink's target was created")
	}
}

// TestRange: the lab numbers in flag help and errors are All's, gaps and
// all: a throwaway lab 99 once made them read "1 to 99".
func TestRange(t *testing.T) {
	defer func(saved []*labs.Lab) { labs.All = saved }(labs.All)
	for _, c := range []struct {
		numbers []int
		want    string
	}{
		{[]int{1, 2, 3, 4, 5, 6, 7}, "1 to 7"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "0 to 10"},
		{[]int{1, 2, 3, 4, 5, 6, 7, 99}, "1 to 7 and 99"},
		{[]int{0, 1, 2, 3, 5, 6, 9}, "0 to 3, 5, 6 and 9"},
		{[]int{4}, "4"},
	} {
		labs.All = nil
		for _, n := range c.numbers {
			labs.All = append(labs.All, &labs.Lab{Number: n})
		}
		if got := labs.Range(); got != c.want {
			t.Errorf("labs %v: Range() = %q, want %q", c.numbers, got, c.want)
		}
	}
}

// TestAllInOrder: All is in lab order, which Range, the reports and the
// docs' tables rely on.
func TestAllInOrder(t *testing.T) {
	for i := 1; i < len(labs.All); i++ {
		if labs.All[i].Number <= labs.All[i-1].Number {
			t.Errorf("labs.All: lab %d after lab %d", labs.All[i].Number, labs.All[i-1].Number)
		}
	}
}

// TestChoiceFlag: every -stages value is built by Choice.Flag and means
// what it says when the server parses it back; a lab without a stage
// cannot be chosen.
func TestChoiceFlag(t *testing.T) {
	if got := labs.Fix(7, 3).Flag(); got != "all=baseline,3=solution,7=solution" {
		t.Errorf("Fix(7, 3).Flag() = %q", got)
	}
	all := labs.Fix(labs.StagedNumbers()...)
	parsed, err := labs.ParseChoice(all.Flag())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labs.Staged() {
		if parsed.Get(l.Number) != labs.Solution {
			t.Errorf("%s parsed back picks lab %d's %s", all.Flag(), l.Number, parsed.Get(l.Number))
		}
	}
	for _, l := range labs.All {
		if l.Stage != "" {
			continue
		}
		if _, err := labs.ParseChoice(fmt.Sprintf("%d=solution", l.Number)); err == nil || !strings.Contains(err.Error(), "no stage") {
			t.Errorf("choosing lab %d, which has no stage, gave %v; want an error that says so", l.Number, err)
		}
	}
}
