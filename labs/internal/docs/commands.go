package docs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Command is one command a page tells the reader to type: a line of a
// ```sh block.
type Command struct {
	File string
	Line int
	Text string // without its comment
}

func (c Command) String() string { return fmt.Sprintf("%s:%d: %s", c.File, c.Line, c.Text) }

// Commands returns every command of the ```sh blocks of the pages.
func Commands(root string) ([]Command, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var out []Command
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		in := false
		sc := bufio.NewScanner(bytes.NewReader(b))
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			switch {
			case strings.HasPrefix(text, "```sh"):
				in = true
			case strings.HasPrefix(text, "```"):
				in = false
			case in:
				if cmd := strings.TrimSpace(stripComment(text)); cmd != "" {
					out = append(out, Command{File: f, Line: line, Text: strings.TrimPrefix(cmd, "sudo ")})
				}
			}
		}
	}
	return out, nil
}

// stripComment drops a " # comment" outside quotes.
func stripComment(s string) string {
	quote := rune(0)
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// Words splits a command line as a POSIX shell would for the simple
// commands the pages use: words, single and double quotes.
func Words(s string) []string {
	var out []string
	var cur strings.Builder
	quote, has := rune(0), false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, has = r, true
		case r == ' ' || r == '\t':
			if cur.Len() > 0 || has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 || has {
		out = append(out, cur.String())
	}
	return out
}

var (
	envAssign     = regexp.MustCompile(`^[A-Z_]+=`)
	labToolRun    = regexp.MustCompile(`flamelab-lab (run|capstone) `)
	latestCapture = regexp.MustCompile(`^profiles/lab-(\d)/latest/`) // read from the reference capture instead
)

// Try checks one command without the time or the person it needs: make
// targets with make -n, then the lab tool's flags with -validate; go test's
// patterns with -list (a renamed test matches nothing); pprof on the
// reference captures; go build for real. It returns what it did, or an
// error. A command of a kind it does not know is an error: a new kind of
// command needs a way to check it.
//
// It is long on purpose: one switch, one case per kind of command the pages
// tell a reader to type.
func Try(root string, c Command) (string, error) {
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	text := c.Text
	if i := strings.Index(text, " | "); i >= 0 {
		text = text[:i] // what is piped to grep is the reader's filter
	}
	text = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(text, "2>&1")), " ")
	w := Words(text)
	for len(w) > 0 && envAssign.MatchString(w[0]) {
		w = w[1:] // GODEBUG=... and the like change what it prints, not whether it runs
	}
	if len(w) == 0 {
		return "", fmt.Errorf("no command")
	}
	switch {
	case w[0] == "make":
		out, err := run("make", append([]string{"-n"}, w[1:]...)...)
		if err != nil {
			return "", err
		}
		did := "make -n"
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimSpace(l)
			if labToolRun.MatchString(l) {
				if _, err := run("sh", "-c", l+" -validate"); err != nil {
					return "", err
				}
				did += ", flags validated"
			}
		}
		return did, nil
	case len(w) > 2 && w[0] == "go" && w[1] == "test":
		var pkgs []string
		pattern := ""
		for i := 2; i < len(w); i++ {
			a := w[i]
			switch {
			case strings.HasPrefix(a, "./"):
				pkgs = append(pkgs, a)
			case (a == "-run" || a == "-bench") && i+1 < len(w):
				if p := w[i+1]; p != "^$" {
					pattern = strings.Split(p, "/")[0]
				}
				i++
			}
		}
		if pattern == "" || len(pkgs) == 0 {
			return "", fmt.Errorf("cannot find the test pattern and package in %q", c.Text)
		}
		out, err := run("go", append([]string{"test", "-list", pattern}, pkgs...)...)
		if err != nil {
			return "", err
		}
		for _, l := range strings.Split(out, "\n") {
			if l != "" && !strings.HasPrefix(l, "ok ") && !strings.HasPrefix(l, "ok\t") {
				return "go test -list " + pattern + ": " + l, nil
			}
		}
		return "", fmt.Errorf("no test or benchmark matches %q in %v", pattern, pkgs)
	case len(w) > 2 && w[0] == "go" && w[1] == "tool" && w[2] == "pprof":
		args := []string{"tool", "pprof"}
		file, format := "", false
		for _, a := range w[3:] {
			switch {
			case strings.HasPrefix(a, "-http"):
			case a == "-tags" || a == "-traces" || a == "-raw" || a == "-top" || a == "-text":
				args, format = append(args, a), true // the page's own output format
			case strings.HasPrefix(a, "-"):
				args = append(args, a)
			default:
				file = latestCapture.ReplaceAllString(a, RefDir+"/lab-$1/")
			}
		}
		if !format {
			args = append(args, "-top", "-nodecount=1")
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			if !strings.HasPrefix(file, RefDir) {
				return "not run: it reads " + file + ", which the command before it writes", nil
			}
			return "", fmt.Errorf("%s: no such reference capture", file)
		}
		if _, err := run("go", append(args, file)...); err != nil {
			return "", err
		}
		return "go tool pprof -top on " + file, nil
	case len(w) > 2 && w[0] == "go" && w[1] == "build":
		if _, err := run("go", w[1:]...); err != nil {
			return "", err
		}
		return "built", nil
	case len(w) > 2 && w[0] == "go" && w[1] == "tool" && w[2] == "trace":
		return "not run: interactive (make lab-1 writes the traces; the reference captures keep their scheduler profiles, before-sched.pb.gz and after-sched.pb.gz)", nil
	case len(w) > 1 && w[0] == "docker" && (w[1] == "save" || w[1] == "load"):
		return "not run: moves an image between machines", nil
	case strings.HasPrefix(w[0], "scripts/"):
		if fi, err := os.Stat(filepath.Join(root, w[0])); err != nil || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s: missing or not executable", w[0])
		}
		return "exists, executable", nil
	}
	return "", fmt.Errorf("a kind of command this check does not know: teach docs.Try to check it")
}
