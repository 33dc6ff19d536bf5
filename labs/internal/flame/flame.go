// Package flame renders profiles with github.com/google/pprof used as a
// library: pprof's own flame graph as a static HTML file, top tables, and the
// share of named functions, with no browser and no Graphviz.
package flame

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"

	"github.com/google/pprof/driver"
)

// Page says what a static flame graph shows: its title, a paragraph for the
// reader, and the command that opens the same profile in pprof's live UI.
type Page struct {
	Title string
	About string // plain text
	Live  string // e.g. "make flame-6 PROFILE=before-cpu"
	Back  string // a relative link back to the report, if any
}

// HTML writes pprof's flame graph of the profile at src to out, as a single
// self-contained page that opens from file:// (pprof inlines its script and
// style), made static by Static. flags are more pprof flags, e.g.
// "-diff_base=before.pb.gz" for a diff or "-sample_index=alloc_space".
func HTML(src, out string, page Page, flags ...string) error {
	var html []byte
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
		html = rec.Body.Bytes()
		return nil
	}, nil)
	if err != nil {
		return fmt.Errorf("render %s: %w", src, err)
	}
	return os.WriteFile(out, Static(html, page), 0o644)
}

// liveLink matches the links of pprof's page that lead to its own server:
// "./top", "./download", "?f=...". From file:// they lead nowhere.
var liveLink = regexp.MustCompile(`\shref="(\./[^"]*|\?[^"]*)"`)

// staticStyle hides the menus that need pprof's server (View, Sample,
// Refine, Config, Download, and the right-click actions); the elements stay,
// because pprof's script looks them up.
const staticStyle = `<style>
#view,#sample,#refine,#config,#download,#action-menu a,#action-menu hr{display:none!important}
.flamelab{font:14px/1.45 system-ui,sans-serif;background:#fffbe6;border-bottom:1px solid #e0d8a8;padding:.5em 1em}
.flamelab h2{font-size:16px;margin:0 0 .2em}.flamelab p{margin:.2em 0}
</style>
`

// Static turns pprof's live flame graph page into one that works from
// file://: the menus and links that need pprof's server are gone, the page
// says what it shows (pprof titles a profile without a main binary
// "unknown time"), and right-clicking a frame says where Focus and the
// other actions live.
func Static(html []byte, p Page) []byte {
	s := string(html)
	s = liveLink.ReplaceAllString(s, "")
	s = strings.Replace(s, "</head>", staticStyle+"</head>", 1)
	title := template.HTMLEscapeString(p.Title)
	s = regexp.MustCompile(`<title>[^<]*</title>`).ReplaceAllString(s, "<title>"+title+"</title>")
	s = regexp.MustCompile(`(id="details">)[^<]*(</a>)`).ReplaceAllString(s, "${1}details${2}")
	live := "the live UI: " + template.HTMLEscapeString(p.Live)
	if p.Live == "" {
		live = "pprof's live UI (go tool pprof -http=127.0.0.1:8081 FILE.pb.gz)"
	}
	banner := fmt.Sprintf(`<div class="flamelab"><h2>%s</h2><p>%s</p><p>A static copy: click a frame to zoom in, type in the search box to highlight. Focus, Ignore, Peek and Source need %s.`,
		title, template.HTMLEscapeString(p.About), live)
	if p.Back != "" {
		banner += fmt.Sprintf(` <a href="%s">Back to the report</a>.`, template.HTMLEscapeString(p.Back))
	}
	banner += "</p></div>\n"
	s = strings.Replace(s, "<body>", "<body>\n"+banner, 1)
	s = strings.Replace(s, `<span id="action-title"></span>`,
		`<span id="action-title"></span><p style="margin:.3em .6em;max-width:22em;font-size:12px">Focus, Ignore, Hide and Source need `+live+`</p>`, 1)
	return []byte(s)
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
	// pprof's driver keeps some settings from one call to the next in the
	// same process: a diff's -normalize would scale the next plain page
	// (and fail without a base). Every call starts from it off; a later
	// -normalize in args wins.
	args = append([]string{"-normalize=false"}, args...)
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
