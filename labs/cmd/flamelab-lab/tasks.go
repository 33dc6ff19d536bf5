package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flamelab/flamelab/labs"
)

// labFlag parses -lab N (and whatever else fs defines) and returns the lab,
// which must have an exercise for the learner's targets.
func labFlag(name string, args []string, fs *flag.FlagSet) (*labs.Lab, error) {
	n := fs.Int("lab", 0, "lab number, "+labs.Range())
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	lab, err := labs.ByNumber(*n)
	if err != nil {
		return nil, err
	}
	if name != "bench" && !lab.Has(labs.Exercise) {
		return nil, fmt.Errorf("lab %d (%s) has only its baseline so far: it has no exercise to %s yet", lab.Number, lab.Slug, name)
	}
	return lab, nil
}

// goCmd runs the go command with the terminal attached.
func goCmd(env []string, args ...string) error {
	cmd := exec.Command("go", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	return cmd.Run()
}

// reset rewrites the exercise's code from the baseline. Its doc.go, which
// addresses the learner, stays.
func reset(args []string) error {
	lab, err := labFlag("reset", args, flag.NewFlagSet("reset", flag.ExitOnError))
	if err != nil {
		return err
	}
	files, err := lab.PristineExercise(".")
	if err != nil {
		return err
	}
	dir := filepath.Join(lab.Path(), string(labs.Exercise))
	old, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range old {
		if filepath.Base(f) != "doc.go" {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, code := range files {
		if err := os.WriteFile(filepath.Join(dir, name), code, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("reset %s from %s/baseline (%d files; doc.go kept)\n", dir, lab.Path(), len(files))
	return nil
}

// bench runs the lab's benchmarks and prints two benchstat tables:
// implementations side by side (sub-benchmarks named impl=...), then the
// alternatives the lesson compares (method=...), each against its own first
// column. Mixing them would leave every "vs base" cell empty.
func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	count := fs.Int("count", 10, "runs of each benchmark: benchstat needs several for a confidence interval")
	benchtime := fs.String("benchtime", "1s", "go test -benchtime: how long each run of a benchmark lasts")
	lab, err := labFlag("bench", args, fs)
	if err != nil {
		return err
	}
	out, err := os.CreateTemp("", "flamelab-bench-*.txt")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", *benchtime, "-count", fmt.Sprint(*count), "./"+lab.Path()+"/")
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	fmt.Fprintf(os.Stderr, "lab %d: %d runs of %s of every benchmark in %s...\n", lab.Number, *count, *benchtime, lab.Path())
	err = cmd.Run()
	out.Close()
	if err != nil {
		raw, _ := os.ReadFile(out.Name())
		return fmt.Errorf("go test -bench: %v\n%s", err, raw)
	}
	raw, _ := os.ReadFile(out.Name())
	for _, key := range []string{"impl", "method"} {
		if !strings.Contains(string(raw), "/"+key+"=") {
			continue
		}
		fmt.Printf("\n== %s ==\n", map[string]string{"impl": "the implementations, against the baseline", "method": "the alternatives the lesson compares, against the first"}[key])
		if err := goCmd(nil, "tool", "benchstat", "-filter", "/"+key+":/./", "-col", "/"+key, out.Name()); err != nil {
			return err
		}
	}
	return nil
}

// fuzz runs the lab's fuzz test: every implementation against the baseline.
func fuzz(args []string) error {
	fs := flag.NewFlagSet("fuzz", flag.ExitOnError)
	fuzztime := fs.String("fuzztime", "2m", "how long to fuzz")
	lab, err := labFlag("fuzz", args, fs)
	if err != nil {
		return err
	}
	tests, _ := filepath.Glob(filepath.Join(lab.Path(), "*_test.go"))
	found := false
	for _, f := range tests {
		code, _ := os.ReadFile(f)
		found = found || strings.Contains(string(code), "\nfunc Fuzz")
	}
	if !found {
		return fmt.Errorf("lab %d (%s) has no fuzz test", lab.Number, lab.Slug)
	}
	return goCmd(nil, "test", "-run", "^$", "-fuzz", "^Fuzz", "-fuzztime", *fuzztime, "./"+lab.Path()+"/")
}

// tags prints the build tags a server running STAGES needs.
func tags(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: flamelab-lab tags STAGES (e.g. all=baseline,6=exercise)")
	}
	c, err := labs.ParseChoice(args[0])
	if err != nil {
		return err
	}
	fmt.Println(c.Tags())
	return nil
}
