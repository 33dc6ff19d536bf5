// Package docs keeps every figure in flamelab's documentation true to the
// code it measured.
//
// A figure lives in a generated block of a Markdown file:
//
//	<!-- begin: make lab-6 | fingerprint=1a2b3c4d5e6f -->
//	_`make lab-6`, 2026-11-26 10:12 UTC, commit 3844216, ..._
//
//	```text
//	...the command's output...
//	```
//	<!-- end -->
//
// The begin marker names the command a reader runs to see the same thing.
// make docs (Generate) reruns the commands, keeps what they wrote under
// profiles/reference/ (the reference captures, for readers who run
// nothing), and splices their output between the markers with a stamp: the
// date, the machine, the database, the commit, and a fingerprint of the code
// that determines the figures (Deps says which files, and why).
//
// make docs-check (Check) recomputes each block's fingerprint from the tree:
// a block whose code changed since it was measured is stale, and the check
// names it, the files that changed and the command that refreshes it. It
// also renders every block again from its capture and fails if the page
// says something else, so a hand edit inside a block does not survive.
//
// Prose outside the blocks cites them instead of restating their figures.
package docs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Block is one generated block of a Markdown file.
type Block struct {
	File        string // relative to the repository root
	Line        int    // of the begin marker, 1-based
	Command     string // what the reader runs, e.g. "make lab-6"
	Fingerprint string // of the code it measured; "" if never generated
	Body        string // between the markers, without them
	start, end  int    // byte offsets of Body in the file
}

func (b Block) String() string { return fmt.Sprintf("%s:%d: %q", b.File, b.Line, b.Command) }

var (
	beginRe = regexp.MustCompile(`^<!-- begin: (.+?)(?: \| fingerprint=([0-9a-f]+))? -->$`)
	endRe   = regexp.MustCompile(`^<!-- end -->$`)
)

// Parse returns the generated blocks of a Markdown file's content.
func Parse(file string, content []byte) ([]Block, error) {
	var out []Block
	var cur *Block
	off := 0
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		next := off + len(text) + 1
		switch {
		case beginRe.MatchString(text):
			if cur != nil {
				return nil, fmt.Errorf("%s:%d: a block begins inside the block of line %d", file, line, cur.Line)
			}
			m := beginRe.FindStringSubmatch(text)
			cur = &Block{File: file, Line: line, Command: m[1], Fingerprint: m[2], start: next}
		case endRe.MatchString(text):
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: an end without a begin", file, line)
			}
			cur.end = off
			cur.Body = string(content[cur.start:cur.end])
			out = append(out, *cur)
			cur = nil
		}
		off = next
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the block never ends (<!-- end -->)", file, cur.Line)
	}
	return out, sc.Err()
}

// Files are the Markdown files that may hold blocks, relative to root.
func Files(root string) ([]string, error) {
	var out []string
	for _, pattern := range []string{"README.md", "docs/*.md", "labs/README.md", "labs/*/README.md", "profiles/README.md"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, _ := filepath.Rel(root, f)
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Target is what a block measures: a lab's run, the capstone, the claims
// page, or another command's output.
type Target struct {
	Kind Kind
	Lab  int  // for KindLab, and for KindCommand when the command is about one lab
	AA   bool // KindLab with IMPL=baseline: the A/A noise run
	// Run: a KindCommand that is a lab run with other settings (make lab-1
	// LAB_FLAGS=-rate=800), or reads a lab run's reference capture: its
	// figures depend on what the lab run's do.
	Run bool
	Dir string // the capture, relative to root, for KindLab and KindCapstone
}

// Kind is the kind of a Target.
type Kind int

// The kinds of Target.
const (
	KindCommand  Kind = iota // any other command: its standard output
	KindLab                  // make lab-N [IMPL=baseline]: the run's table
	KindCapstone             // make capstone: the capstone's text
	KindClaims               // make claims: the claims page
)

// RefDir is where the reference captures live.
const RefDir = "profiles/reference"

var (
	labRun   = regexp.MustCompile(`^make lab-([1-7])( IMPL=baseline)?$`)
	labWords = regexp.MustCompile(`(?:lab-|bench-|check-|fuzz-|flame-|labs/0|reference/lab-)([1-7])\b`)
)

// Parse reads a block's command.
func ParseTarget(command string) Target {
	switch {
	case command == "make capstone":
		return Target{Kind: KindCapstone, Dir: RefDir + "/capstone"}
	case command == "make claims":
		return Target{Kind: KindClaims}
	}
	if m := labRun.FindStringSubmatch(command); m != nil {
		n, _ := strconv.Atoi(m[1])
		t := Target{Kind: KindLab, Lab: n, Dir: fmt.Sprintf("%s/lab-%d", RefDir, n)}
		if m[2] != "" {
			t.AA, t.Dir = true, t.Dir+"-aa"
		}
		return t
	}
	// A lab run with other flags, and a command that reads a lab's
	// reference capture, depend on what the lab's run depends on.
	t := Target{Kind: KindCommand, Run: strings.HasPrefix(command, "make lab-") || strings.Contains(command, RefDir+"/lab-")}
	if m := labWords.FindStringSubmatch(command); m != nil {
		t.Lab, _ = strconv.Atoi(m[1])
	}
	return t
}

// Name is how make docs LAB= selects a target: the lab number, or
// "capstone" (the capstone and the claims page).
func (t Target) Name() string {
	switch t.Kind {
	case KindCapstone, KindClaims:
		return "capstone"
	}
	if t.Lab == 0 {
		return "other"
	}
	return strconv.Itoa(t.Lab)
}

// Deps returns the files, relative to root, whose content determines the
// target's figures:
//
//   - every target: go.mod and go.sum; the server (package server and its
//     Postgres store, migrations included) and its entry point; the lab
//     registry; and the measuring instruments, which the numbers also
//     depend on: the load generator (it shares the two cores with the
//     server and defines the work), the runner and its statistics and
//     profile rendering, and the lab tool's run and capstone commands
//     (their defaults size the work).
//   - a lab's run: that lab's baseline and solution, and every other lab's
//     solution, which both sides run. A change to any lab's solution
//     therefore makes every lab's run stale: lab 05's and lab 06's pasted
//     runs once hid exactly such a change (lab 07's uuid fix).
//   - the capstone and the claims page: every baseline and solution.
//   - another command about one lab (make bench-6, go test ./labs/06-...):
//     that lab's whole directory, tests included, and its test helpers.
//
// Not included: the Makefile (targets are the interface; a recipe change
// that moved a figure would be a defect of its own), the exercises (no
// block measures them), documentation, and tests of other packages.
func Deps(root string, t Target) ([]string, error) {
	var files []string
	add := func(dir string, tests bool) error {
		return filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(root, dir) {
				return nil // a lab without a solution yet
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			name := d.Name()
			if !(strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".sql")) || (!tests && strings.HasSuffix(name, "_test.go")) {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
			return nil
		})
	}
	for _, f := range []string{"go.mod", "go.sum", "labs/labs.go", "labs/open_unix.go", "labs/open_other.go",
		"labs/cmd/flamelab-lab/main.go", "labs/cmd/flamelab-lab/capstone.go", "labs/cmd/flamelab-lab/ceiling.go",
		"labs/cmd/flamelab-lab/roundtrip.go", "labs/cmd/flamelab-server/main.go"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			files = append(files, f)
		}
	}
	for _, d := range []string{"server", "labs/internal/load", "labs/internal/runner", "labs/internal/flame", "labs/internal/compare"} {
		if err := add(d, false); err != nil {
			return nil, err
		}
	}
	labDirs, err := filepath.Glob(filepath.Join(root, "labs", "0[1-7]-*"))
	if err != nil {
		return nil, err
	}
	for _, d := range labDirs {
		rel, _ := filepath.Rel(root, d)
		n, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(d)[:2], "0"))
		switch {
		case t.Kind == KindCapstone || t.Kind == KindClaims:
			err = errors.Join(add(rel+"/baseline", false), add(rel+"/solution", false))
		case t.Kind == KindLab:
			err = add(rel+"/solution", false)
			if n == t.Lab {
				err = errors.Join(err, add(rel+"/baseline", false))
			}
		case t.Lab == n:
			err = errors.Join(add(rel, true), add("labs/internal/labtest", true))
		case t.Run:
			err = add(rel+"/solution", false) // both sides run the other labs' solutions
		}
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// Fingerprint hashes the files' paths and contents: 12 hex digits. A Go
// file counts by its tokens, without comments or layout: a reworded comment
// or a gofmt run measures the same code, and must not make a block stale.
func Fingerprint(root string, files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		if strings.HasSuffix(f, ".go") {
			b = goTokens(b)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s\x00%x\n", f, sum)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// goTokens returns src's tokens, one per line, without its comments.
func goTokens(src []byte) []byte {
	var s scanner.Scanner
	fset := token.NewFileSet()
	s.Init(fset.AddFile("", fset.Base(), len(src)), src, nil, 0) // comments skipped
	var out bytes.Buffer
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			return out.Bytes()
		}
		if tok == token.SEMICOLON && lit == "\n" {
			lit = ";" // an inserted semicolon is the same code as a written one
		}
		fmt.Fprintf(&out, "%s %s\n", tok, lit)
	}
}

var fingerprintRe = regexp.MustCompile(`fingerprint=[0-9a-f]+`)
