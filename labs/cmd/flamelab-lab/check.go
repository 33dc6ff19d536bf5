package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// check runs the lab's tests against the learner's exercise, in one or two
// phases, and explains the outcome: every failing test's output, then what
// that kind of failure means and what to run or read next; on a pass, the
// learner's own figures beside each budget and the baseline's.
func check(args []string) error {
	lab, err := labFlag("check", args, flag.NewFlagSet("check", flag.ExitOnError))
	if err != nil {
		return err
	}
	pkg := "./" + lab.Path() + "/..."
	var phases []phase
	if lab.RaceFreeBudgets {
		phases = []phase{
			{"phase 1 of 2: every test without -race: correctness, and the budgets the race detector would distort", []string{"-count=1"}},
			{"phase 2 of 2: every test again with -race: data races (the distorted budgets are skipped here)", []string{"-race", "-count=1"}},
		}
	} else {
		phases = []phase{{"one phase: every test, correctness and budgets (counts), with -race", []string{"-race", "-count=1"}}}
	}
	var figures []string
	for _, ph := range phases {
		fmt.Printf("lab %d: checking your exercise: %s\n", lab.Number, ph.what)
		res, err := runTests(pkg, ph.flags)
		if err != nil {
			return err
		}
		for _, l := range res.figures {
			if !slices.Contains(figures, l) {
				figures = append(figures, l)
			}
		}
		if len(res.failed) > 0 || res.buildFailed {
			explain(lab, res)
			return fmt.Errorf("lab %d: your exercise does not pass yet: %d test(s) failed (above: each one's output, then what it means and what to do)", lab.Number, res.leaves())
		}
	}
	fmt.Printf("\nlab %d: your exercise passes every test. Your figures, beside each budget and the baseline's:\n", lab.Number)
	for _, f := range figures {
		fmt.Println("  " + f)
	}
	if lab.BuildsProfile() {
		fmt.Printf("Now build the server with it and measure: make lab-%d IMPL=exercise (QUICK=1 on a busy machine)\n", lab.Number)
		return nil
	}
	if lab.Stage == "" {
		fmt.Printf("Now see what it reports beside the others: make bench-%d (your row is impl=exercise)\n", lab.Number)
		return nil
	}
	fmt.Printf("Now measure it on the server: make lab-%d IMPL=exercise (QUICK=1 on a busy machine)\n", lab.Number)
	return nil
}

type phase struct {
	what  string
	flags []string
}

// testResult is what one go test -json run said.
type testResult struct {
	failed      []string            // failed tests, parents and subtests
	output      map[string][]string // each test's output lines
	raced       bool
	buildFailed bool
	build       []string // compiler output
	figures     []string // "budget: …  yours: …" lines
}

// event is one line of go test -json (test2json).
type event struct {
	Action, Test, Output string
}

var (
	budgetLine = regexp.MustCompile(`budget: (.*?): (at most|at least) (\S+) \(the baseline: (.*)\)$`)
	yoursLine  = regexp.MustCompile(`^\s*\S+: exercise: (.*?) \(budget`)
)

func runTests(pkg string, flags []string) (*testResult, error) {
	cmd := exec.Command("go", append(append([]string{"test", "-json"}, flags...), pkg)...)
	cmd.Env = append(os.Environ(), labtest.EnvImpl+"="+string(labs.Exercise))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	res := &testResult{output: map[string][]string{}}
	budgets := map[string]string{} // top-level test -> its budget line
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			res.build = append(res.build, sc.Text())
			continue
		}
		switch {
		case e.Action == "output" && e.Test != "":
			line := strings.TrimRight(e.Output, "\n")
			res.output[e.Test] = append(res.output[e.Test], line)
			res.raced = res.raced || strings.Contains(line, "WARNING: DATA RACE")
			top, _, _ := strings.Cut(e.Test, "/")
			if m := budgetLine.FindStringSubmatch(line); m != nil {
				budgets[top] = fmt.Sprintf("%s: budget %s %s, baseline %s", m[1], m[2], m[3], m[4])
			}
			if m := yoursLine.FindStringSubmatch(line); m != nil && budgets[top] != "" {
				res.figures = append(res.figures, fmt.Sprintf("%s; yours: %s", budgets[top], m[1]))
			}
		case e.Action == "output":
			if strings.Contains(e.Output, "build failed") || strings.Contains(e.Output, "[setup failed]") {
				res.buildFailed = true
			}
			res.build = append(res.build, strings.TrimRight(e.Output, "\n"))
		case e.Action == "fail" && e.Test != "":
			res.failed = append(res.failed, e.Test)
		}
	}
	err = cmd.Wait()
	if stderr.Len() > 0 {
		res.build = append(res.build, strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")...)
		res.buildFailed = res.buildFailed || strings.Contains(stderr.String(), ".go:")
	}
	if err != nil && len(res.failed) == 0 && !res.buildFailed {
		res.buildFailed = true // failed without a failing test: a panic in TestMain, a vet error
	}
	return res, nil
}

// explain prints each failing test's output and what its kind of failure
// means.
func explain(lab *labs.Lab, res *testResult) {
	w := os.Stdout
	read := fmt.Sprintf("labs/%s/README.md: section 5 (the fix) and the hints", lab.Slug)
	if res.buildFailed {
		printLines(w, res.build)
		fmt.Fprintf(w, "\nWhat it means: the tests could not run: your exercise does not compile, or vet refused it (go test runs go vet).\n"+
			"Next: go vet ./%s/exercise/ shows the first problem with its file and line.\n", lab.Path())
		return
	}
	for _, name := range res.failed {
		if hasFailedChild(name, res.failed) {
			continue // its subtest says it, with the detail
		}
		fmt.Fprintf(w, "\n--- %s\n", name)
		printLines(w, res.output[name])
		top, _, _ := strings.Cut(name, "/")
		fmt.Fprint(w, "\n")
		switch {
		case strings.Contains(top, "Budget") || strings.Contains(strings.Join(res.output[name], "\n"), "Why: "):
			fmt.Fprintf(w, "What it means: your exercise is correct so far but still does what this budget counts (the lines above: Why, Next, Read).\n")
		case res.raced && slices.ContainsFunc(res.output[name], func(l string) bool { return strings.Contains(l, "DATA RACE") }):
			fmt.Fprintf(w, "What it means: two goroutines touched the same memory, at least one writing, with nothing ordering them: the race detector's report above shows both stacks (the first access, then the earlier one).\n"+
				"A race is a bug even when the numbers look right: the compiler and the CPU may reorder unsynchronised accesses.\n"+
				"Next: find the variable in both stacks; guard it with the same lock on both sides, give each goroutine its own copy, or hand it over through a channel.\n"+
				"Read: %s; https://go.dev/ref/mem\n", read)
			if slices.ContainsFunc(res.output[name], func(l string) bool { return strings.Contains(l, "runtime.map") || strings.Contains(l, "maps.") }) {
				fmt.Fprintf(w, "Here the memory is a map's: a map that leaves the lock (in a snapshot, a report) is still the map the writers change under it.\n")
			}
		default:
			fmt.Fprintf(w, "What it means: your exercise gives another answer than the baseline's (the test above says for which input and where); a fix must keep the behaviour and only be faster.\n"+
				"Next: FLAMELAB_IMPL=exercise go test -count=1 -run '^%s$' -v ./%s/ reruns just this one.\n"+
				"Read: %s.\n", regexp.QuoteMeta(top), lab.Path(), read)
		}
	}
}

// leaves counts the failed tests that have no failed subtest.
func (r *testResult) leaves() int {
	n := 0
	for _, f := range r.failed {
		if !hasFailedChild(f, r.failed) {
			n++
		}
	}
	return n
}

func hasFailedChild(name string, failed []string) bool {
	return slices.ContainsFunc(failed, func(f string) bool { return strings.HasPrefix(f, name+"/") })
}

func printLines(w io.Writer, lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "=== ") || strings.HasPrefix(strings.TrimSpace(l), "--- ") {
			continue
		}
		fmt.Fprintln(w, l)
	}
}
