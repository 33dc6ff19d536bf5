package docs

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/capstone"
	"github.com/flamelab/flamelab/labs/internal/claims"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/runner"
)

// Stamp is what a block says about the run behind it. A capture keeps its
// stamp in stamp.json; another command's output keeps it beside the output.
type Stamp struct {
	Command     string
	Fingerprint string
	Date        time.Time
	Commit      string
	Machine     string
	Database    string
	Seconds     float64 // how long the command took
	Output      string  `json:",omitempty"` // KindCommand: what it printed
}

// stampPath is where a target's stamp lives.
func stampPath(root string, t Target, command string) string {
	if t.Dir != "" {
		return filepath.Join(root, t.Dir, "stamp.json")
	}
	sum := sha256.Sum256([]byte(command))
	return filepath.Join(root, RefDir, "commands", fmt.Sprintf("%x.json", sum[:6]))
}

func readStamp(path string) (*Stamp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Stamp{}
	return s, json.Unmarshal(b, s)
}

// Options are make docs' settings.
type Options struct {
	Root     string
	Only     []string  // target names (lab numbers, "capstone"); none: all
	Self     string    // this program, to run "run" and "capstone" as make lab-N would
	Commit   string    // git describe of the tree
	Database string    // where the commands' databases come from, for their stamps
	Log      io.Writer // progress
	// Missing: measure only what has no current capture (a new block, or
	// one whose code changed), not everything selected.
	Missing bool
}

func (o Options) selected(t Target) bool {
	return len(o.Only) == 0 || slices.Contains(o.Only, t.Name())
}

// All returns every block of every file.
func All(root string) ([]Block, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var out []Block
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		blocks, err := Parse(f, b)
		if err != nil {
			return nil, err
		}
		out = append(out, blocks...)
	}
	return out, nil
}

// Measure reruns the commands behind the selected blocks and keeps what
// they wrote under profiles/reference: a capture per lab run and for the
// capstone, and the output of every other command.
func Measure(o Options) error {
	blocks, err := All(o.Root)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	// Captures first, in a fixed order (labs, A/A runs, the capstone),
	// then the other commands.
	slices.SortStableFunc(blocks, func(a, b Block) int {
		ta, tb := ParseTarget(a.Command), ParseTarget(b.Command)
		if ta.Dir != "" && tb.Dir != "" {
			return strings.Compare(ta.Dir, tb.Dir)
		}
		if ta.Dir != "" {
			return -1
		}
		if tb.Dir != "" {
			return 1
		}
		return 0
	})
	for _, b := range blocks {
		t := ParseTarget(b.Command)
		if t.Kind == KindClaims || !o.selected(t) || done[b.Command] {
			continue
		}
		done[b.Command] = true
		if o.Missing {
			if st, err := readStamp(stampPath(o.Root, t, b.Command)); err == nil {
				if now, err := current(o.Root, t); err == nil && now == st.Fingerprint {
					continue
				}
			}
		}
		if err := o.measure(t, b.Command); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	return nil
}

func (o Options) measure(t Target, command string) error {
	fp, err := current(o.Root, t)
	if err != nil {
		return err
	}
	st := Stamp{Command: command, Fingerprint: fp, Date: time.Now().UTC(), Commit: o.Commit, Machine: runner.Machine(), Database: o.Database}
	fmt.Fprintf(o.Log, "docs: %s (fingerprint %s)\n", command, fp)
	start := time.Now()
	var cmd *exec.Cmd
	switch t.Kind {
	case KindLab:
		args := []string{"run", "-lab", fmt.Sprint(t.Lab), "-dir", t.Dir}
		if t.AA {
			args = append(args, "-impl", "baseline")
		}
		cmd = exec.Command(o.Self, args...)
	case KindCapstone:
		cmd = exec.Command(o.Self, "capstone", "-dir", t.Dir)
	default:
		cmd = exec.Command("sh", "-c", command)
	}
	cmd.Dir, cmd.Stderr = o.Root, o.Log
	var out bytes.Buffer
	cmd.Stdout = &out
	if t.Kind != KindCommand {
		cmd.Stdout = io.MultiWriter(&out, o.Log)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\n%s", command, err, out.String())
	}
	st.Seconds = time.Since(start).Seconds()
	switch t.Kind {
	case KindLab:
		rep, err := runner.LoadReport(filepath.Join(o.Root, t.Dir))
		if err != nil {
			return err
		}
		st.Date, st.Database = rep.Started.UTC(), rep.Database
		if err := runner.Prune(filepath.Join(o.Root, t.Dir), keepPages(rep.Profile, t.AA)); err != nil {
			return err
		}
		// A run with comparisons of its own in subdirectories (lab 10's
		// costs) keeps their reports and profiles, not their pages; and no
		// execution trace anywhere in it (lab 10's flight-recorder
		// snapshots, megabytes each, which production.md has read).
		if err := pruneBelow(filepath.Join(o.Root, t.Dir)); err != nil {
			return err
		}
		if err := shareAssets(o.Root, t.Dir); err != nil {
			return err
		}
	case KindCapstone:
		cs, err := capstone.Load(filepath.Join(o.Root, t.Dir))
		if err != nil {
			return err
		}
		st.Date, st.Database = cs.Started.UTC(), cs.Database
		if err := runner.Prune(filepath.Join(o.Root, t.Dir, "compare"), keepPages("fgprof", false)); err != nil {
			return err
		}
		if err := shareAssets(o.Root, t.Dir+"/compare"); err != nil {
			return err
		}
	default:
		st.Output = out.String()
	}
	return writeStamp(stampPath(o.Root, t, command), st)
}

// pruneBelow prunes every comparison in a subdirectory of dir (one with a
// report.json) to its reports and profiles, and removes every execution
// trace under dir.
func pruneBelow(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p != dir:
			if _, err := os.Stat(filepath.Join(p, "report.json")); err == nil {
				return runner.Prune(p, func(string) bool { return false })
			}
		case !d.IsDir() && strings.HasSuffix(p, ".trace"):
			return os.Remove(p)
		}
		return nil
	})
}

// keepPages keeps, of a run's flame graph pages, the lesson's profile
// before, after and their difference, in each view the lesson reads (an
// allocation profile by bytes and by count); of an A/A run, none. The rest
// of the pages would triple the captures' size; their raw profiles stay.
func keepPages(profile string, aa bool) func(string) bool {
	return func(title string) bool {
		if aa {
			return false
		}
		return strings.HasSuffix(title, ": "+profile) || strings.HasSuffix(title, ": "+profile+"-objects")
	}
}

// assetsDir holds the scripts and styles the reference pages share.
const assetsDir = RefDir + "/assets"

// shareAssets moves the flame graph pages' shared scripts and styles of the
// capture in dir into assetsDir (flame.ShareAssets), then deletes the
// assets no reference page links any more.
func shareAssets(root, dir string) error {
	pages, _ := filepath.Glob(filepath.Join(root, dir, "*.html"))
	if _, err := flame.ShareAssets(pages, filepath.Join(root, assetsDir)); err != nil {
		return err
	}
	linked := map[string]bool{}
	all, _ := filepath.Glob(filepath.Join(root, RefDir, "*", "*.html"))
	more, _ := filepath.Glob(filepath.Join(root, RefDir, "*", "*", "*.html"))
	for _, p := range append(all, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range assetLink.FindAllStringSubmatch(string(b), -1) {
			linked[m[1]] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, assetsDir, "*"))
	for _, f := range files {
		if !linked[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

var assetLink = regexp.MustCompile(`(?:src|href)="[^"]*assets/([^"/]+)"`)

func writeStamp(path string, st Stamp) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Render returns what a block must hold, from its capture or stored output.
func Render(root string, b Block) (body, fingerprint string, err error) {
	t := ParseTarget(b.Command)
	var st *Stamp
	var text string
	switch t.Kind {
	case KindClaims:
		// From the captures, each of which must be current: a claims page
		// mixing runs of different code would be true of none.
		fp, err := current(root, t)
		if err != nil {
			return "", "", err
		}
		latest := time.Time{}
		for _, l := range labs.Staged() { // the labs the claims read
			s, err := readStamp(filepath.Join(root, RefDir, fmt.Sprintf("lab-%d", l.Number), "stamp.json"))
			if err != nil {
				return "", "", fmt.Errorf("the claims need lab %d's capture: make docs LAB=%d", l.Number, l.Number)
			}
			if now, err := current(root, ParseTarget(fmt.Sprintf("make lab-%d", l.Number))); err != nil || now != s.Fingerprint {
				return "", "", fmt.Errorf("the claims read lab %d's capture, which is stale: make docs LAB=%d", l.Number, l.Number)
			}
			latest = later(latest, s.Date)
		}
		cs, err := readStamp(filepath.Join(root, RefDir, "capstone", "stamp.json"))
		if err != nil {
			return "", "", errors.New("the claims need the capstone's capture: make docs LAB=capstone")
		}
		latest = later(latest, cs.Date)
		var w strings.Builder
		dir := func(name string) string { return filepath.Join(root, RefDir, name) }
		if err := claims.Write(&w, dir, "the reference captures in `profiles/reference/`, written by `make docs`", cs.Commit); err != nil {
			return "", "", err
		}
		st = &Stamp{Command: b.Command, Fingerprint: fp, Date: latest, Commit: cs.Commit, Machine: cs.Machine, Database: cs.Database}
		// The page that embeds the claims has their title already.
		_, body, _ := strings.Cut(w.String(), "\n\n")
		text = demote(body)
	default:
		if st, err = readStamp(stampPath(root, t, b.Command)); err != nil {
			return "", "", fmt.Errorf("no capture for %q: make docs LAB=%s", b.Command, t.Name())
		}
		switch t.Kind {
		case KindLab:
			rep, err := runner.LoadReport(filepath.Join(root, t.Dir))
			if err != nil {
				return "", "", err
			}
			var w strings.Builder
			rep.WriteTable(&w)
			// Lab 9's run also says what the compiler changed (pgo.md),
			// lab 10's what the flight recorder caught (production.md).
			for _, name := range []string{"pgo.md", "production.md"} {
				if more, err := os.ReadFile(filepath.Join(root, t.Dir, name)); err == nil {
					w.Write(more)
				}
			}
			text = fence(strings.TrimLeft(w.String(), "\n"))
		case KindCapstone:
			cs, err := capstone.Load(filepath.Join(root, t.Dir))
			if err != nil {
				return "", "", err
			}
			var w strings.Builder
			cs.WriteText(&w)
			text = demote(w.String())
		default:
			text = fence(makeNoise.ReplaceAllString(st.Output, ""))
		}
	}
	head := fmt.Sprintf("_Generated by `make docs LAB=%s` from `%s`: %s, %s, code %s; database: %s; took %.0f s. Reference capture: [`%s`](%s)._\n\n",
		t.Name(), b.Command, st.Date.Format("2006-01-02 15:04 MST"), st.Machine, orUnknown(st.Commit), st.Database, st.Seconds, captureName(t), captureLink(b.File, t))
	if t.Kind == KindClaims {
		head = fmt.Sprintf("_Generated by `make docs LAB=capstone` from the reference captures (the newest of %s), code %s._\n\n", st.Date.Format("2006-01-02 15:04 MST"), orUnknown(st.Commit))
	}
	return "\n" + head + strings.TrimRight(text, "\n") + "\n\n", st.Fingerprint, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func captureName(t Target) string {
	if t.Dir != "" {
		return t.Dir + "/"
	}
	return RefDir + "/commands/"
}

// captureLink is the capture's path relative to the file that links it.
func captureLink(file string, t Target) string {
	target := captureName(t)
	if t.Kind == KindLab {
		target = t.Dir + "/report.md"
	} else if t.Kind == KindCapstone {
		target = t.Dir + "/capstone.md"
	}
	rel, err := filepath.Rel(filepath.Dir(file), target)
	if err != nil {
		return target
	}
	return filepath.ToSlash(rel)
}

// makeNoise is what make prints when make docs runs a make target from
// within make: not the command's output.
var makeNoise = regexp.MustCompile(`(?m)^make\[\d+\]: (Entering|Leaving) directory .*\n`)

func fence(s string) string { return "```text\n" + strings.TrimRight(s, "\n") + "\n```" }

// demote turns a generated page's headings into subheadings of the page
// that embeds it.
func demote(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") {
			lines[i] = "###" + l
		}
	}
	return strings.Join(lines, "\n")
}

// Splice writes every selected block's rendering into its file, with its
// fingerprint in the begin marker. It refuses a block whose capture is
// stale: splicing it would stamp old figures as current.
func Splice(o Options) error {
	files, err := Files(o.Root)
	if err != nil {
		return err
	}
	if err := dropOrphans(o.Root); err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		path := filepath.Join(o.Root, f)
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		blocks, err := Parse(f, content)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		last := 0
		for _, b := range blocks {
			t := ParseTarget(b.Command)
			if !o.selected(t) && !(t.Kind == KindClaims) {
				continue
			}
			// A block that cannot be spliced stays as it is, and the
			// others are spliced all the same: the error names it.
			body, fp, err := Render(o.Root, b)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", b, err))
				continue
			}
			now, err := current(o.Root, t)
			if err != nil {
				return err
			}
			if fp != now {
				errs = append(errs, fmt.Errorf("%s: its capture measured code %s, the tree is now %s: make docs LAB=%s measures it again", b, fp, now, t.Name()))
				continue
			}
			// Rewrite the begin line (it carries the fingerprint) and
			// the body.
			beginStart := bytes.LastIndex(content[:b.start-1], []byte("\n")) + 1
			out.Write(content[last:beginStart])
			fmt.Fprintf(&out, "<!-- begin: %s | fingerprint=%s -->\n%s", b.Command, fp, body)
			last = b.end
		}
		out.Write(content[last:])
		if !bytes.Equal(out.Bytes(), content) {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(o.Log, "docs: updated %s\n", f)
		}
	}
	return errors.Join(errs...)
}

// dropOrphans deletes the stored outputs of commands no block runs any more
// (a block whose command was edited leaves its old output behind).
func dropOrphans(root string) error {
	blocks, err := All(root)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, b := range blocks {
		keep[stampPath(root, ParseTarget(b.Command), b.Command)] = true
	}
	stored, _ := filepath.Glob(filepath.Join(root, RefDir, "commands", "*.json"))
	for _, f := range stored {
		if !keep[f] {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// current is the fingerprint of the target's code in the tree now.
func current(root string, t Target) (string, error) {
	deps, err := Deps(root, t)
	if err != nil {
		return "", err
	}
	return Fingerprint(root, deps)
}

// Problem is one thing Check found wrong with a block.
type Problem struct {
	Block Block
	Why   string
}

func (p Problem) String() string { return fmt.Sprintf("%s: %s", p.Block, p.Why) }

// Check returns what is wrong with the blocks: never generated, stale
// (their code changed since they were measured), or not what their
// capture says. changed names the files that changed since a commit, when
// it can (git); nil leaves them out.
func Check(root string, changed func(commit string, files []string) []string) ([]Problem, error) {
	blocks, err := All(root)
	if err != nil {
		return nil, err
	}
	var out []Problem
	for _, b := range blocks {
		t := ParseTarget(b.Command)
		refresh := fmt.Sprintf("make docs LAB=%s", t.Name())
		if b.Fingerprint == "" {
			out = append(out, Problem{b, "never generated: run " + refresh})
			continue
		}
		deps, err := Deps(root, t)
		if err != nil {
			return nil, err
		}
		now, err := Fingerprint(root, deps)
		if err != nil {
			return nil, err
		}
		if now != b.Fingerprint {
			why := fmt.Sprintf("stale: it measured code with fingerprint %s, the code it depends on is now %s", b.Fingerprint, now)
			if st, err := readStamp(stampPath(root, t, b.Command)); err == nil && changed != nil {
				if files := changed(strings.TrimSuffix(st.Commit, "-dirty"), deps); len(files) > 0 {
					why += fmt.Sprintf(" (changed since %s: %s)", st.Commit, strings.Join(files, ", "))
				}
			}
			out = append(out, Problem{b, why + "; refresh: " + refresh})
			continue
		}
		want, fp, err := Render(root, b)
		if err != nil {
			out = append(out, Problem{b, err.Error()})
			continue
		}
		if fp != b.Fingerprint {
			out = append(out, Problem{b, fmt.Sprintf("its capture has fingerprint %s, the block says %s: %s", fp, b.Fingerprint, refresh)})
			continue
		}
		if want != b.Body {
			out = append(out, Problem{b, "says something other than its capture (edited by hand?): " + refresh + ", or flamelab-lab docs -splice"})
		}
	}
	return out, nil
}
