package pgo

import (
	"slices"
	"testing"
)

// A compiler report as go build -gcflags='...=-m -d=pgodebug=3' prints it,
// trimmed: a hot-budget line counts only with its inlining line, lines
// repeated by inlining passes count once, positions outside the module do
// not count, and only package server's interface calls with samples are
// kept.
const report = `# github.com/flamelab/flamelab/server
hot-callsite-thres-from-CDF=0.25
hot-budget check allows inlining for call github.com/flamelab/flamelab/server.isIdentifier (cost 87) at server/route.go:25:18 in function github.com/flamelab/flamelab/server.Route
hot-budget check allows inlining for call github.com/flamelab/flamelab/server.isIdentifier (cost 87) at server/route.go:25:18 in function github.com/flamelab/flamelab/server.Route
server/route.go:25:18: inlining call to isIdentifier
hot-budget check allows inlining for call strings.Split (cost 285) at server/route.go:21:35 in function github.com/flamelab/flamelab/server.Route
/usr/local/go/src/strings/strings.go:10:2: inlining call to strings.Index
server/route.go:30:2: inlining call to strings.Cut
server/x.go:7:9: PGO devirtualizing interface call h.Write to Writer.Write
{"Pkg":"github.com/flamelab/flamelab/server","Pos":"/work/main/server/server.go:180:35","Caller":"github.com/flamelab/flamelab/server.(*Server).postEvents","Direct":false,"Interface":true,"Weight":4,"Hottest":"github.com/flamelab/flamelab/labs/06-parsing/solution.Parser.Parse","HottestWeight":4,"Devirtualized":"","DevirtualizedWeight":0}
{"Pkg":"github.com/flamelab/flamelab/server","Pos":"/work/main/server/server.go:128:10","Caller":"github.com/flamelab/flamelab/server.writeJSONError","Direct":false,"Interface":true,"Weight":0,"Hottest":"","HottestWeight":0,"Devirtualized":"","DevirtualizedWeight":0}
`

func TestParse(t *testing.T) {
	d := Parse("default.pgo", report)
	if len(d.Inlined) != 1 || d.Inlined[0].Pos != "server/route.go:25:18" || d.Inlined[0].Cost != 87 {
		t.Errorf("Inlined = %+v; want isIdentifier at server/route.go:25:18 only (strings.Split's raised budget was not used)", d.Inlined)
	}
	if want := []string{"server/x.go:7:9: h.Write to Writer.Write"}; !slices.Equal(d.Devirtualized, want) {
		t.Errorf("Devirtualized = %q, want %q", d.Devirtualized, want)
	}
	if len(d.ServerCalls) != 1 || d.ServerCalls[0].Pos != "server/server.go:180:35" || d.ServerCalls[0].Weight != 4 {
		t.Errorf("ServerCalls = %+v; want the one with samples, at server/server.go:180:35", d.ServerCalls)
	}
	if want := []string{"server/route.go:25:18: isIdentifier", "server/route.go:30:2: strings.Cut"}; !slices.Equal(d.InlinedAll, want) {
		t.Errorf("InlinedAll = %q, want %q (the standard library's own lines left out)", d.InlinedAll, want)
	}
	off := Parse("off", "server/route.go:30:2: inlining call to strings.Cut\nserver/a.go:1:1: inlining call to f\n")
	added, removed := Diff(off, d)
	if !slices.Equal(added, []string{"server/route.go:25:18: isIdentifier"}) || !slices.Equal(removed, []string{"server/a.go:1:1: f"}) {
		t.Errorf("Diff = %q, %q", added, removed)
	}
}
