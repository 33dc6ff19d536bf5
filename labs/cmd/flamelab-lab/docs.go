package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/flamelab/flamelab/labs/internal/docs"
)

// docsCmd is make docs and make docs-check (see package docs).
//
//	flamelab-lab docs [-lab 6,capstone]   measure, keep the captures, splice
//	flamelab-lab docs -splice             splice the captures in, measure nothing
//	flamelab-lab docs -check              fail on a stale or edited block
func docsCmd(args []string) error {
	fs := flag.NewFlagSet("docs", flag.ExitOnError)
	var (
		only   = fs.String("lab", "", "comma-separated targets: lab numbers and capstone (the capstone and the claims page); empty: all")
		check  = fs.Bool("check", false, "measure nothing: fail if a block is stale or differs from its capture")
		splice = fs.Bool("splice", false, "measure nothing: splice the captures into the pages")
		anyDB  = fs.Bool("any-database", false, "measure on whatever database Provision finds (the docs say which), not only a testcontainer")
		miss   = fs.Bool("missing", false, "measure only the blocks with no current capture (new ones, or ones whose code changed), then splice")
		cmds   = fs.Bool("commands", false, "check every command the pages tell the reader to type (make -n, -validate, go test -list, ...)")
	)
	fs.Parse(args)
	if *cmds {
		list, err := docs.Commands(".")
		if err != nil {
			return err
		}
		failed := 0
		for _, c := range list {
			did, err := docs.Try(".", c)
			if err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "FAIL %s\n     %v\n", c, err)
				continue
			}
			fmt.Printf("ok   %s  (%s)\n", c, did)
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d commands in the docs do not work", failed, len(list))
		}
		return nil
	}
	if *check {
		problems, err := docs.Check(".", changedSince)
		if err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p)
		}
		if len(problems) > 0 {
			return fmt.Errorf("%d generated block(s) need make docs", len(problems))
		}
		fmt.Println("docs: every generated block is current")
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	o := docs.Options{Root: ".", Self: self, Commit: commit(), Log: os.Stderr,
		Database: "a Docker testcontainer, if the command uses a database"}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	o.Missing = *miss
	if !*splice {
		// The lessons promise the learner a Postgres testcontainer; the
		// figures move with the database, so the docs measure on one.
		if os.Getenv("FLAMELAB_DATABASE_URL") != "" && !*anyDB {
			return errors.New("FLAMELAB_DATABASE_URL is set: the docs measure on a testcontainer (make docs unsets it); -any-database to measure elsewhere")
		}
		if err := docs.Measure(o); err != nil {
			return err
		}
	}
	return docs.Splice(o)
}

// changedSince lists which of files differ between commit and the tree.
func changedSince(commit string, files []string) []string {
	if commit == "" {
		return nil
	}
	out, err := exec.Command("git", append([]string{"diff", "--name-only", commit, "--"}, files...)...).Output()
	if err != nil {
		return nil
	}
	return strings.Fields(string(out))
}
