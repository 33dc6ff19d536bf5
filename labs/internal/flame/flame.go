// Package flame renders profiles with github.com/google/pprof used as a
// library: pprof's own flame graph as a static HTML file, top tables, and the
// share of named functions, with no browser and no Graphviz.
package flame

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/google/pprof/driver"
)

// HTML writes pprof's flame graph of the profile at src to out, as a single
// self-contained page that opens from file:// (pprof inlines its script and
// style). flags are more pprof flags, e.g. "-diff_base=before.pb.gz" for a
// diff or "-sample_index=alloc_space".
func HTML(src, out string, flags ...string) error {
	var page []byte
	args := append([]string{"-http=127.0.0.1:0", "-no_browser", "-symbolize=none"}, flags...)
	err := run(append(args, src), func(a *driver.HTTPServerArgs) error {
		h, ok := a.Handlers["/flamegraph"]
		if !ok {
			return errors.New("this pprof version has no /flamegraph view")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/flamegraph", nil))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("flame graph: %d %s", rec.Code, rec.Body)
		}
		page = rec.Body.Bytes()
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("render %s: %w", src, err)
	}
	return os.WriteFile(out, page, 0o644)
}

// Top returns pprof's -top table of the profile at src with n rows. flags
// are more pprof flags, e.g. "-cum" or "-diff_base=before.pb.gz".
func Top(src string, n int, flags ...string) (string, error) {
	w := &memWriter{}
	args := append([]string{"-top", fmt.Sprintf("-nodecount=%d", n), "-symbolize=none", "-output=top.txt"}, flags...)
	if err := run(append(args, src), nil, w); err != nil {
		return "", fmt.Errorf("top of %s: %w", src, err)
	}
	return w.String(), nil
}

// run runs pprof's driver with args as its command line.
func run(args []string, serve func(*driver.HTTPServerArgs) error, w driver.Writer) error {
	ui := &quietUI{}
	err := driver.PProf(&driver.Options{
		Flagset:    newFlags(args),
		UI:         ui,
		HTTPServer: serve,
		Writer:     w,
	})
	if err == nil && ui.errs.Len() > 0 && strings.Contains(ui.errs.String(), "failed") {
		err = errors.New(strings.TrimSpace(ui.errs.String()))
	}
	return err
}

// flags gives pprof its command line from a slice, with the standard flag
// package underneath.
type flags struct {
	*flag.FlagSet
	args  []string
	usage []string
}

func newFlags(args []string) *flags {
	fs := flag.NewFlagSet("pprof", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{FlagSet: fs, args: args}
}

type stringList struct{ values *[]*string }

func (s stringList) String() string { return "" }
func (s stringList) Set(v string) error {
	*s.values = append(*s.values, &v)
	return nil
}

func (f *flags) StringList(name, def, usage string) *[]*string {
	values := &[]*string{}
	if def != "" {
		*values = append(*values, &def)
	}
	f.Var(stringList{values}, name, usage)
	return values
}

func (f *flags) ExtraUsage() string      { return strings.Join(f.usage, "\n") }
func (f *flags) AddExtraUsage(eu string) { f.usage = append(f.usage, eu) }
func (f *flags) Parse(usage func()) []string {
	if err := f.FlagSet.Parse(f.args); err != nil {
		usage()
		return nil
	}
	return f.FlagSet.Args()
}

// quietUI keeps pprof's messages instead of printing them.
type quietUI struct{ errs bytes.Buffer }

func (*quietUI) ReadLine(string) (string, error)     { return "", io.EOF }
func (*quietUI) Print(...any)                        {}
func (u *quietUI) PrintErr(a ...any)                 { fmt.Fprintln(&u.errs, a...) }
func (*quietUI) IsTerminal() bool                    { return false }
func (*quietUI) WantBrowser() bool                   { return false }
func (*quietUI) SetAutoComplete(func(string) string) {}

// memWriter collects what pprof writes to its -output file.
type memWriter struct{ bytes.Buffer }

func (w *memWriter) Open(string) (io.WriteCloser, error) { return nopCloser{&w.Buffer}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
