// Package pgo is make lab-9: profile-guided optimisation of the fixed
// server, measured. It builds the all-solution server twice from one
// source, without a profile (-pgo=off) and with a default.pgo merged from
// the server's own CPU profiles under the lab's load, compares the two
// builds like every lab compares two servers, and reads what the compiler
// did differently from its own report.
//
// # What the compiler says
//
// go build -gcflags='PKG=-m -d=pgodebug=3' -pgo=FILE prints, for every
// package PKG matches:
//
//	POS: inlining call to F                          -m: every call inlined
//	hot-budget check allows inlining for call F (cost N) at POS in function G
//	                                                 PGO: a hot call site's budget raised
//	POS: PGO devirtualizing interface call X to Y    PGO: a hot interface call made direct
//	{"Pkg":...,"Pos":...,"Interface":true,"Hottest":...,"Devirtualized":...}
//	                                                 pgodebug=3: each call site considered
//
// Compile runs that build and Parse reads those lines, keeping flamelab's
// own code (positions relative to the module root). A decision is a count
// from the compiler, not a timing: lab 09's budget is one.
package pgo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flamelab/flamelab/labs"
)

// Inline is one call site PGO made the compiler inline: it was over the
// ordinary budget (80) and the profile called it hot.
type Inline struct {
	Pos    string // file:line:col, relative to the module root
	Callee string
	Caller string
	Cost   int // the callee's inlining cost; the ordinary budget is 80
}

// CallSite is one interface call site of package server the compiler
// considered for PGO devirtualisation (pgodebug=3's JSON lines), with
// samples in the profile.
type CallSite struct {
	Pos          string
	Caller       string
	Hottest      string // the concrete method the profile says it calls most
	Weight       int64  // the call edge's samples
	Devirtualize string // what it was devirtualised to; empty: left indirect
}

// Decisions is what one build's compiler report says PGO did in
// flamelab's packages.
type Decisions struct {
	Profile string // the -pgo flag's value: "off" or a file
	// Inlined lists every call site PGO's raised budget inlined.
	Inlined []Inline
	// Devirtualized lists "POS: X to Y" for every interface call PGO made
	// direct.
	Devirtualized []string
	// ServerCalls are package server's interface calls that have samples
	// in the profile: the stage calls the issue hoped PGO would make direct.
	ServerCalls []CallSite
	// InlinedAll is every "POS: inlining call to F" line in flamelab's
	// code, PGO's or not, for the diff between two builds.
	InlinedAll []string `json:"-"`
}

var (
	inlineLine = regexp.MustCompile(`^([^/\s:][^\s:]*:\d+:\d+): inlining call to (\S+)`)
	hotLine    = regexp.MustCompile(`^hot-budget check allows inlining for call (\S+) \(cost (\d+)\) at ([^/\s:][^\s:]*:\d+:\d+) in function (\S+)$`)
	devirtLine = regexp.MustCompile(`^([^/\s:][^\s:]*:\d+:\d+): PGO devirtualizing interface call (.+)$`)
)

// Parse reads a build's compiler report (see the package doc). A hot-budget
// line counts as an inlining only if the same build also says it inlined
// that call: the raised budget is necessary, not sufficient.
func Parse(profile, out string) Decisions {
	d := Decisions{Profile: profile}
	inlined := map[string]bool{} // "pos callee"
	var hot []Inline
	seen := map[string]bool{}
	for line := range strings.Lines(out) {
		line = strings.TrimRight(line, "\n")
		if seen[line] {
			continue // the compiler prints some decisions once per inlining pass
		}
		seen[line] = true
		if m := inlineLine.FindStringSubmatch(line); m != nil {
			inlined[m[1]+" "+m[2]] = true
			d.InlinedAll = append(d.InlinedAll, m[1]+": "+m[2])
		} else if m := hotLine.FindStringSubmatch(line); m != nil {
			cost, _ := strconv.Atoi(m[2])
			hot = append(hot, Inline{Pos: m[3], Callee: m[1], Caller: m[4], Cost: cost})
		} else if m := devirtLine.FindStringSubmatch(line); m != nil {
			d.Devirtualized = append(d.Devirtualized, m[1]+": "+m[2])
		} else if strings.HasPrefix(line, `{"Pkg":"github.com/flamelab/flamelab/server"`) {
			var c struct {
				Pos, Caller, Hottest, Devirtualized string
				Interface                           bool
				Weight                              int64
			}
			if json.Unmarshal([]byte(line), &c) == nil && c.Interface && c.Weight > 0 {
				d.ServerCalls = append(d.ServerCalls, CallSite{Pos: relative(c.Pos), Caller: c.Caller, Hottest: c.Hottest, Weight: c.Weight, Devirtualize: c.Devirtualized})
			}
		}
	}
	for _, h := range hot {
		// The report names the callee package-qualified, the inlining line
		// by its short name: match on the last element.
		short := h.Callee[strings.LastIndex(h.Callee, "/")+1:]
		if _, after, ok := strings.Cut(short, "."); ok && (inlined[h.Pos+" "+short] || inlined[h.Pos+" "+after]) {
			d.Inlined = append(d.Inlined, h)
		}
	}
	slices.SortFunc(d.Inlined, func(a, b Inline) int { return strings.Compare(a.Pos, b.Pos) })
	d.Inlined = slices.CompactFunc(d.Inlined, func(a, b Inline) bool { return a.Pos == b.Pos && a.Callee == b.Callee })
	slices.Sort(d.Devirtualized)
	slices.Sort(d.InlinedAll)
	slices.SortFunc(d.ServerCalls, func(a, b CallSite) int { return strings.Compare(a.Pos, b.Pos) })
	d.ServerCalls = slices.CompactFunc(d.ServerCalls, func(a, b CallSite) bool { return a.Pos == b.Pos })
	return d
}

// relative makes an absolute position inside the module relative to its
// root, as the compiler's other lines are.
func relative(pos string) string {
	if i := strings.Index(pos, "/server/"); i >= 0 {
		return pos[i+1:]
	}
	return pos
}

// flags is the report's go build flags for one -pgo value.
func flags(pgo string) []string {
	return []string{"-pgo=" + pgo, "-gcflags=github.com/flamelab/flamelab/...=-m -d=pgodebug=3"}
}

// Compile builds the server with choice and -pgo=pgo ("off" or a profile
// file) and the compiler's report on, and returns what the report says.
// It must run in the module root. The binary is thrown away: the measured
// builds are plain ones (-m changes nothing in the code, but keeps the
// build out of the cache the plain builds share).
func Compile(ctx context.Context, c labs.Choice, pgo string) (Decisions, error) {
	dir, err := os.MkdirTemp("", "flamelab-pgo-*")
	if err != nil {
		return Decisions{}, err
	}
	defer os.RemoveAll(dir)
	out, err := labs.BuildServerWith(ctx, filepath.Join(dir, "flamelab-server"), c, flags(pgo), nil)
	if err != nil {
		return Decisions{}, err
	}
	return Parse(pgo, out), nil
}

// Diff is the -m lines one build has and the other does not.
func Diff(off, on Decisions) (added, removed []string) {
	for _, l := range on.InlinedAll {
		if _, ok := slices.BinarySearch(off.InlinedAll, l); !ok {
			added = append(added, l)
		}
	}
	for _, l := range off.InlinedAll {
		if _, ok := slices.BinarySearch(on.InlinedAll, l); !ok {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// Keys names each PGO inlining by call site and callee, to compare two
// profiles' decisions.
func (d Decisions) Keys() []string {
	var out []string
	for _, in := range d.Inlined {
		out = append(out, fmt.Sprintf("%s %s", in.Pos, in.Callee))
	}
	return out
}
