package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
)

// machine describes where the numbers were measured.
func machine() string {
	host, _ := os.Hostname()
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs (%s), %s %s/%s", host, runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Num formats a figure as the reports print it: whole from 100 up (and
// whole numbers), one decimal from 10, two below.
func Num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// RatioText is the ratio column: the median per-pair ratio (after/before)
// and its range over the pairs.
func (m Metric) RatioText() string {
	if m.NoRatio || math.IsNaN(m.Ratio) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx [%.2f–%.2f]", m.Ratio, m.RatioMin, m.RatioMax)
}

// WriteTable prints the terminal summary.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\n%s: %s\n", r.Title, r.Trick)
	fmt.Fprintf(w, "before: %s   after: %s   %d pairs of %d requests (%s, %d workers, %d lines each)\n\n",
		r.A.Impl, r.B.Impl, r.Pairs, r.Load.Requests, r.Load.Mode, r.Load.Workers, r.Load.Lines)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	lo, hi := r.LegSeconds()
	fmt.Fprintf(w, "legs lasted %.1f to %.1f s; the order was balanced (A B, B A, ...)\n", lo, hi)
	if r.Sizing != nil {
		fmt.Fprintf(w, "%s\n", r.Sizing)
	}
	if r.RoundTrip != nil {
		fmt.Fprintf(w, "%s\n", r.RoundTrip)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "metric\tbefore (median)\tafter (median)\tafter/before: median of pair ratios [min–max]\tverdict")
	for _, m := range r.Metrics {
		fmt.Fprintf(tw, "%s (%s)\t%s\t%s\t%s\t%s\n", m.Name, m.Unit, Num(m.MedianA), Num(m.MedianB), m.RatioText(), m.Verdict())
	}
	if r.A.Stage != "" || r.B.Stage != "" { // a comparison of two builds (lab 9) studies no stage
		fmt.Fprintf(tw, "stage share of the %s profile\t%.1f%%\t%.1f%%\t\t(profiled legs: of %s and %s)\n",
			r.Profile, 100*r.A.StageShare.Cum, 100*r.B.StageShare.Cum, r.A.StageShare.Of(), r.B.StageShare.Of())
	}
	tw.Flush()
	fmt.Fprintf(w, "\narticle's claim: %s\n", r.Claim)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

func write(dir string, r *Report) error {
	return WriteFiles(dir, "report", r, r.writeMarkdown, htmlReport)
}

// WriteFiles writes a run's three files in dir: stem.json (v), stem.md
// (what text prints) and stem.html (page executed with v).
func WriteFiles(dir, stem string, v any, text func(io.Writer), page *template.Template) error {
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, stem+".json"), js, 0o644); err != nil {
		return err
	}
	var md bytes.Buffer
	text(&md)
	if err := os.WriteFile(filepath.Join(dir, stem+".md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, stem+".html"))
	if err != nil {
		return err
	}
	defer f.Close()
	return page.Execute(f, v)
}

func (r *Report) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "# %s: before/after\n\n", r.Title)
	fmt.Fprintf(w, "- trick: %s\n- article's claim: %s\n- measured: %s, %s\n- database: %s\n",
		r.Trick, r.Claim, r.Started.Format("2006-01-02 15:04 MST"), r.Machine, r.Database)
	fmt.Fprintf(w, "- work per leg: %d requests (%d warm-up not counted), %s mode, %d workers, %d lines per request, seed %d\n",
		r.Load.Requests, r.Load.Warmup, r.Load.Mode, r.Load.Workers, r.Load.Lines, r.Load.Seed)
	if r.Sizing != nil {
		fmt.Fprintf(w, "- %s\n", r.Sizing)
	}
	if r.RoundTrip != nil {
		fmt.Fprintf(w, "- %s\n", r.RoundTrip)
	}
	lo, hi := r.LegSeconds()
	if r.Commit != "" {
		fmt.Fprintf(w, "- code: %s\n", r.Commit)
	}
	fmt.Fprintf(w, "- legs: %d pairs, alternating before/after in a balanced order (A B, B A, ...), fresh server and empty table each leg, each lasting %.1f to %.1f s; then two profiled legs per side (pprof's profiles, then fgprof alone), each under load for its profiles' whole window of %d s, outside the statistics\n", r.Pairs, lo, hi, r.ProfileSeconds)
	fmt.Fprintf(w, "- the medians are per side; the ratio column is the median of the per-pair ratios (each pair ran back to back), which is why it need not equal after/before of the medians\n")
	fmt.Fprintf(w, "- before: `-stages %s`%s\n- after: `-stages %s`%s\n", r.A.Stages, r.A.built(), r.B.Stages, r.B.built())
	fmt.Fprintf(w, "\n| metric | before (median) | after (median) | after/before: median of pair ratios [min–max] | verdict (Mann-Whitney U, α=0.05) |\n|---|---|---|---|---|\n")
	for _, m := range r.Metrics {
		fmt.Fprintf(w, "| %s (%s) | %s | %s | %s | %s |\n", m.Name, m.Unit, Num(m.MedianA), Num(m.MedianB), m.RatioText(), m.Verdict())
	}
	fmt.Fprintf(w, "| stage's share of the %s profile (cum) | %.1f%% of %s | %.1f%% of %s | | from the profiled legs |\n\n",
		r.Profile, 100*r.A.StageShare.Cum, r.A.StageShare.Of(), 100*r.B.StageShare.Cum, r.B.StageShare.Of())
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "> warning: %s\n", warn)
	}
	fmt.Fprintf(w, "\n## Every leg, in the order run\n\n| pair | side | seconds | req/s | p50 ms | p99 ms | allocs/req | GC cycles | round trips/req |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range r.LegRows() {
		l := row.Leg
		fmt.Fprintf(w, "| %d | %s | %.1f | %s | %s | %s | %s | %d | %s |\n", row.Pair, row.Side, l.Load.Duration.Seconds(), Num(l.Load.ReqPerSec),
			Num(ms(l.Load.P50)), Num(ms(l.Load.P99)), Num(l.AllocsPerReq), l.GCCycles, Num(l.RoundTripsPerReq))
	}
	fmt.Fprintf(w, "\n## Flame graphs\n\n")
	for _, name := range slices.Sorted(maps.Keys(r.Flamegraphs)) {
		fmt.Fprintf(w, "- [%s](%s)\n", name, r.Flamegraphs[name])
	}
	fmt.Fprintf(w, "\n## Top 10\n")
	for _, name := range slices.Sorted(maps.Keys(r.Tops)) {
		fmt.Fprintf(w, "\n### %s\n\n```\n%s```\n", name, r.Tops[name])
	}
}

// bar is one bar of the report's inline SVG charts.
type bar struct {
	Label         string
	Before, After float64
	WB, WA        float64 // widths in px
	Unit          string
}

func (r *Report) Bars() []bar {
	var out []bar
	for _, m := range r.Metrics {
		top := max(m.MedianA, m.MedianB)
		if top <= 0 {
			top = 1
		}
		out = append(out, bar{Label: m.Name, Before: m.MedianA, After: m.MedianB, WB: 360 * m.MedianA / top, WA: 360 * m.MedianB / top, Unit: m.Unit})
	}
	return out
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"num": Num, "msOf": ms, "pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"sorted": func(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) },
}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>flamelab {{.Title}}: before/after</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
.b{fill:#c0504d}.a{fill:#4f81bd}svg text{font:12px sans-serif}
</style></head><body>
<h1>{{.Title}}: {{.Trick}}</h1>
<p>Article's claim: <b>{{.Claim}}</b>. Measured {{.Started.Format "2006-01-02 15:04 MST"}} on {{.Machine}}; {{.Database}}.</p>
<p>{{.Pairs}} pairs of {{.Load.Requests}} requests ({{.Load.Mode}}, {{.Load.Workers}} workers, {{.Load.Lines}} lines each), alternating before/after in a balanced order (A B, B A, ...). {{with .Sizing}}{{.}}. {{end}}{{with .RoundTrip}}{{.}}. {{end}}The ratio column is the median of the per-pair ratios, not the ratio of the medians.
Before: <code>-stages {{.A.Stages}}</code>{{with .A.Build}}, built with <code>{{.}}</code>{{end}}. After: <code>-stages {{.B.Stages}}</code>{{with .B.Build}}, built with <code>{{.}}</code>{{end}}.</p>
<table><tr><th>metric</th><th>before (median)</th><th>after (median)</th><th>after/before: median of pair ratios [min–max]</th><th>verdict</th></tr>
{{range .Metrics}}<tr><td>{{.Name}} ({{.Unit}})</td><td>{{num .MedianA}}</td><td>{{num .MedianB}}</td><td>{{.RatioText}}</td><td>{{.Verdict}}</td></tr>
{{end}}{{if or .A.Stage .B.Stage}}<tr><td>stage share of the {{.Profile}} profile</td><td>{{pct .A.StageShare.Cum}} of {{.A.StageShare.Of}}</td><td>{{pct .B.StageShare.Cum}} of {{.B.StageShare.Of}}</td><td></td><td>from the profiled legs</td></tr>{{end}}</table>
{{range .Warnings}}<p>⚠ {{.}}</p>{{end}}
<h2>Medians</h2>
{{range .Bars}}<svg width="720" height="52" role="img" aria-label="{{.Label}}">
<text x="0" y="14">{{.Label}}</text><text x="0" y="30" fill="#666">({{.Unit}})</text>
<rect class="b" x="230" y="2" width="{{printf "%.1f" .WB}}" height="20"/><text x="{{printf "%.1f" .WB}}" dx="236" y="16">before {{num .Before}}</text>
<rect class="a" x="230" y="26" width="{{printf "%.1f" .WA}}" height="20"/><text x="{{printf "%.1f" .WA}}" dx="236" y="40">after {{num .After}}</text>
</svg><br>{{end}}
<h2>Every leg, in the order run</h2>
<table><tr><th>pair</th><th>side</th><th>seconds</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th><th>allocs/req</th><th>GC cycles</th><th>round trips/req</th></tr>
{{range .LegRows}}<tr><td>{{.Pair}}</td><td>{{.Side}}</td><td>{{printf "%.1f" .Leg.Load.Duration.Seconds}}</td><td>{{num .Leg.Load.ReqPerSec}}</td><td>{{num (msOf .Leg.Load.P50)}}</td><td>{{num (msOf .Leg.Load.P99)}}</td><td>{{num .Leg.AllocsPerReq}}</td><td>{{.Leg.GCCycles}}</td><td>{{num .Leg.RoundTripsPerReq}}</td></tr>
{{end}}</table>
<h2>Flame graphs</h2><ul>
{{range $name := sorted .Flamegraphs}}<li><a href="{{index $.Flamegraphs $name}}">{{$name}}</a></li>
{{end}}</ul>
<h2>Top 10</h2>
{{range $name := sorted .Tops}}<h3>{{$name}}</h3><pre>{{index $.Tops $name}}</pre>{{end}}
</body></html>
`))

// LegRow is one measured leg, as it was run.
type LegRow struct {
	Pair int
	Side string
	Leg  Leg
}

// LegRows lists the measured legs in the order they ran: pair i ran
// before-after when i was even (0-based), after-before when odd.
func (r *Report) LegRows() []LegRow {
	var out []LegRow
	for i := range r.Pairs {
		order := []*Side{r.A, r.B}
		if i%2 == 1 {
			order = []*Side{r.B, r.A}
		}
		for _, s := range order {
			if i < len(s.Legs) {
				out = append(out, LegRow{Pair: i + 1, Side: s.Name, Leg: s.Legs[i]})
			}
		}
	}
	return out
}

// LoadReport reads the report.json a run wrote in dir.
func LoadReport(dir string) (*Report, error) {
	r := &Report{}
	return r, ReadJSON(filepath.Join(dir, "report.json"), r)
}

// ReadJSON reads the JSON file at path into v, saying which file failed.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Prune keeps the flame graph pages of dir's report whose title keep
// accepts, deletes the others and the execution traces, and rewrites the
// report so it links only to what is left. The raw profiles all stay: any
// of them renders again with go tool pprof. Reference captures are pruned
// to fit the repository.
func Prune(dir string, keep func(title string) bool) error {
	r, err := LoadReport(dir)
	if err != nil {
		return err
	}
	for title, page := range r.Flamegraphs {
		if !keep(title) {
			if err := os.Remove(filepath.Join(dir, page)); err != nil && !os.IsNotExist(err) {
				return err
			}
			delete(r.Flamegraphs, title)
		}
	}
	traces, _ := filepath.Glob(filepath.Join(dir, "*.trace"))
	for _, t := range traces {
		if err := os.Remove(t); err != nil {
			return err
		}
	}
	for _, s := range []*Side{r.A, r.B} {
		delete(s.Profiles, "trace")
	}
	return write(dir, r)
}

// Machine describes this machine as the reports do.
func Machine() string { return machine() }

// built says how the side's binary was built, when that is what differs.
func (s *Side) built() string {
	if s.Build == "" {
		return ""
	}
	return ", built with `" + s.Build + "`"
}
