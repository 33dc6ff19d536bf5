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
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/flamelab/flamelab/labs"
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
	Lab  int // for KindLab, and for KindCommand when the command is about one lab (OfLab)
	// OfLab: the target is about lab Lab (lab 00 is a lab too, so Lab's
	// zero value cannot say "none").
	OfLab bool
	AA    bool // KindLab with IMPL=baseline: the A/A noise run
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

// The lab numbers come from the registry (labs.All): a new lab is known
// here without an edit.
var (
	labNumbers = numberAlternation(labs.All)
	// make lab-N of a lab with a stage, or of lab 9's two builds, is a
	// comparison whose report the block renders; lab 00 prints its own.
	labRun   = regexp.MustCompile(`^make lab-(` + numberAlternation(compared()) + `)( IMPL=baseline)?$`)
	labWords = regexp.MustCompile(`(?:lab-|bench-|check-|fuzz-|flame-|reference/lab-)(` + labNumbers + `)\b|labs/0*(` + labNumbers + `)-`)
)

// compared is the labs whose make lab-N compares two servers and writes a
// runner report.
func compared() []*labs.Lab {
	out := labs.Staged()
	for _, l := range labs.All {
		if l.BuildsProfile() {
			out = append(out, l)
		}
	}
	return out
}

// numberAlternation is the labs' numbers, as a regexp alternation.
func numberAlternation(all []*labs.Lab) string {
	var ns []string
	for _, l := range all {
		ns = append(ns, strconv.Itoa(l.Number))
	}
	// Longest first, so 10 is not read as 1.
	slices.SortFunc(ns, func(a, b string) int { return len(b) - len(a) })
	return strings.Join(ns, "|")
}

// ParseTarget reads a block's command.
func ParseTarget(command string) Target {
	switch {
	case command == "make capstone":
		return Target{Kind: KindCapstone, Dir: RefDir + "/capstone"}
	case command == "make claims":
		return Target{Kind: KindClaims}
	}
	if m := labRun.FindStringSubmatch(command); m != nil {
		n, _ := strconv.Atoi(m[1])
		t := Target{Kind: KindLab, Lab: n, OfLab: true, Dir: fmt.Sprintf("%s/lab-%d", RefDir, n)}
		if m[2] != "" {
			t.AA, t.Dir = true, t.Dir+"-aa"
		}
		return t
	}
	// A lab run with other flags, and a command that reads a lab's
	// reference capture, depend on what the lab's run depends on.
	t := Target{Kind: KindCommand, Run: strings.HasPrefix(command, "make lab-") || strings.Contains(command, RefDir+"/lab-")}
	if m := labWords.FindStringSubmatch(command); m != nil {
		t.Lab, _ = strconv.Atoi(m[1] + m[2])
		t.OfLab = true
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
	if !t.OfLab {
		return "other"
	}
	return strconv.Itoa(t.Lab)
}

// Deps returns the files, relative to root, whose content determines the
// target's figures:
//
//   - every target: go.mod and go.sum, and every file of the module's
//     packages that the lab tool and the server are built from (go list
//     -deps, embedded files such as the migrations included): the server,
//     the lab registry, and the measuring instruments (the load generator,
//     which shares the cores and defines the work, the runner, its
//     statistics and profile rendering, the lab tool's commands, whose
//     defaults size the work). A new package is in the fingerprint the
//     moment something imports it. Only the docs machinery is left out
//     (notInstruments): it formats figures, it does not make them.
//   - of the labs' stage packages, only those the target runs: a lab's run,
//     that lab's baseline and solution and every other lab's solution,
//     which both sides run (a change to any lab's solution makes every
//     lab's run stale: lab 05's and lab 06's pasted runs once hid exactly
//     such a change, lab 07's uuid fix); the capstone and the claims page,
//     every baseline and solution.
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
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			files = append(files, f)
		}
	}
	built, err := instrumentFiles(root)
	if err != nil {
		return nil, err
	}
	files = append(files, built...)
	for _, l := range labs.All {
		rel, n := "labs/"+l.Slug, l.Number
		var err error
		switch {
		case l.Stage == "" && !(t.OfLab && t.Lab == n):
			// a lab about the instrument: no run but its own uses it
		case t.Kind == KindCapstone || t.Kind == KindClaims:
			err = errors.Join(add(rel+"/baseline", false), add(rel+"/solution", false))
		case t.Kind == KindLab:
			err = add(rel+"/solution", false)
			if n == t.Lab {
				err = errors.Join(err, add(rel+"/baseline", false))
			}
		case t.OfLab && t.Lab == n:
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

// entryPoints are the commands every block's figures come from.
var entryPoints = []string{"./labs/cmd/flamelab-lab", "./labs/cmd/flamelab-server"}

// notInstruments are files and directories (a trailing /) the entry points
// are built from that make no figure: the docs machinery itself. Anything
// not listed here counts, so a new file or package is safe by default.
var notInstruments = []string{"labs/internal/docs/", "labs/cmd/flamelab-lab/docs.go"}

// stagePackage matches a lab's stage implementations, which Deps counts by
// its own rule, per target.
var stagePackage = regexp.MustCompile(`^labs/\d\d-[^/]+/(baseline|solution|exercise)/`)

var listed sync.Map // root -> []string: go list runs once per root

// instrumentFiles returns the files, relative to root, of the module's
// packages the entry points are built from (go list -deps), stage packages
// and notInstruments left out; none where root holds no entry point (a
// test fixture of a few files).
func instrumentFiles(root string) ([]string, error) {
	if v, ok := listed.Load(root); ok {
		return v.([]string), nil
	}
	var entries []string
	for _, e := range entryPoints {
		if _, err := os.Stat(filepath.Join(root, e)); err == nil {
			entries = append(entries, e)
		}
	}
	var files []string
	if len(entries) > 0 {
		cmd := exec.Command("go", append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}\t{{join .GoFiles \" \"}}\t{{join .EmbedFiles \" \"}}{{end}}"}, entries...)...)
		cmd.Dir = root
		// The files of the platform the reference runs are made on, so
		// a check on a Mac computes the same fingerprints.
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go list -deps %s: %v\n%s", strings.Join(entries, " "), err, stderr.String())
		}
		abs, err := filepath.Abs(root)
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(out), "\n") {
			dir, names, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			rel, err := filepath.Rel(abs, dir)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue // another module's: go.sum pins it
			}
			goFiles, embeds, _ := strings.Cut(names, "\t")
			for _, name := range append(strings.Fields(goFiles), strings.Fields(embeds)...) {
				f := filepath.ToSlash(filepath.Join(rel, name))
				if !stagePackage.MatchString(f) && !slices.ContainsFunc(notInstruments, func(x string) bool { return f == x || (strings.HasSuffix(x, "/") && strings.HasPrefix(f, x)) }) {
					files = append(files, f)
				}
			}
		}
	}
	listed.Store(root, files)
	return files, nil
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
