package pgo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/pgo"
)

// TestInlinedBudget: built with the profile the implementation makes of
// testdata's two captures, the compiler inlines at least 5 of flamelab's
// hot call sites over its ordinary budget. The count is the compiler's
// own report (-m with -d=pgodebug=3), for a fixed profile and a fixed
// compiler: no timing. -pgo=off inlines none of them.
func TestInlinedBudget(t *testing.T) {
	caps := captures(t)
	t.Chdir("../..") // go build runs in the module root
	labtest.Judge(t, labtest.Budget{
		Lab: 9, Count: "call sites in flamelab's code that PGO inlined (go build -gcflags=-m -d=pgodebug=3, with the profile Merge returns for labs/09-pgo/testdata's two captures)", Min: 5,
		Why:  "without a profile the compiler gives every call the same inlining budget (80), hot or cold, and -pgo=off decides nothing from the load",
		Look: "return the captures merged (profile.Merge from github.com/google/pprof/profile), the equivalent of go tool pprof -proto a.pb.gz b.pb.gz > default.pgo",
		Read: "labs/09-pgo/README.md, sections 4 and 5 and the hints",
	}, impls, func(t *testing.T, impl labtest.Impl[labs.PGOMerge]) labtest.Count {
		merged, err := impl.Of(caps)
		if err != nil {
			t.Fatalf("Merge: %v", err)
		}
		flag := "off"
		if merged != nil {
			flag = filepath.Join(t.TempDir(), "default.pgo")
			if err := flame.Write(merged, flag); err != nil {
				t.Fatal(err)
			}
		}
		d, err := pgo.Compile(context.Background(), labs.Fix(labs.StagedNumbers()...), flag)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, in := range d.Inlined {
			names = append(names, in.Callee[strings.LastIndex(in.Callee, "/")+1:])
		}
		return labtest.Count{Value: float64(len(d.Inlined)), Detail: fmt.Sprintf("-pgo=%s; %d devirtualised; %s", filepath.Base(flag), len(d.Devirtualized), strings.Join(names, ", "))}
	})
}
