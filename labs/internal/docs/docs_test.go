package docs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a small repository: a server, lab 06's baseline and solution,
// lab 07's solution, and a lesson with one generated block, "make bench-6".
func fixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"go.mod":                             "module example\n",
		"server/server.go":                   "package server\n",
		"labs/06-parsing/baseline/parser.go": "package baseline\n",
		"labs/06-parsing/solution/parser.go": "package solution\n// one line\n",
		"labs/06-parsing/budget_test.go":     "package parsing\n",
		"labs/07-batching/solution/store.go": "package solution\n",
		"labs/06-parsing/README.md":          "# lab 6\n\nSome prose.\n\n<!-- begin: make bench-6 -->\n<!-- end -->\n\nMore prose.\n",
	})
	return root
}

// writeFiles writes files (path relative to root -> content) under root.
func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for path, content := range files {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// generate does what make docs does, with "make bench-6" replaced by a
// command that exists everywhere.
func generate(t *testing.T, root string) {
	t.Helper()
	tgt := ParseTarget("make bench-6")
	deps, err := Deps(root, tgt)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := Fingerprint(root, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeStamp(stampPath(root, tgt, "make bench-6"), Stamp{Command: "make bench-6", Fingerprint: fp, Output: "Parse-2  595.0n ± 16%\n"}); err != nil {
		t.Fatal(err)
	}
	if err := Splice(Options{Root: root, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
}

func TestParse(t *testing.T) {
	content := "a\n<!-- begin: make lab-6 | fingerprint=abc123 -->\nbody\nmore\n<!-- end -->\nz\n"
	blocks, err := Parse("f.md", []byte(content))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || blocks[0].Command != "make lab-6" || blocks[0].Fingerprint != "abc123" || blocks[0].Body != "body\nmore\n" || blocks[0].Line != 2 {
		t.Fatalf("Parse = %+v", blocks)
	}
	for _, bad := range []string{"<!-- begin: x -->\n", "<!-- end -->\n", "<!-- begin: x -->\n<!-- begin: y -->\n<!-- end -->\n"} {
		if _, err := Parse("f.md", []byte(bad)); err == nil {
			t.Errorf("Parse(%q) must fail", bad)
		}
	}
}

func TestTargets(t *testing.T) {
	for cmd, want := range map[string]string{
		"make lab-6":                               "6",
		"make lab-6 IMPL=baseline":                 "6",
		"make capstone":                            "capstone",
		"make claims":                              "capstone",
		"make bench-7 BENCHCOUNT=6":                "7",
		"go test -run CPUShare ./labs/06-parsing/": "6",
	} {
		if got := ParseTarget(cmd).Name(); got != want {
			t.Errorf("%q: target %q, want %q", cmd, got, want)
		}
	}
	if tg := ParseTarget("make lab-6 IMPL=baseline"); !tg.AA || tg.Dir != RefDir+"/lab-6-aa" {
		t.Errorf("the A/A run: %+v", tg)
	}
}

// TestDeps: a lab's run depends on its own baseline and every solution; a
// command about one lab on that lab's directory, tests included.
func TestDeps(t *testing.T) {
	root := fixture(t)
	run, err := Deps(root, ParseTarget("make lab-7"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(run, " ")
	for _, want := range []string{"go.mod", "labs/06-parsing/solution/parser.go", "labs/07-batching/solution/store.go"} {
		if !strings.Contains(got, want) {
			t.Errorf("lab 7's run does not depend on %s: %s", want, got)
		}
	}
	if strings.Contains(got, "labs/06-parsing/baseline") {
		t.Errorf("lab 7's run depends on lab 6's baseline, which neither side runs: %s", got)
	}
	bench, _ := Deps(root, ParseTarget("make bench-6"))
	if !strings.Contains(strings.Join(bench, " "), "labs/06-parsing/budget_test.go") {
		t.Errorf("make bench-6 does not depend on lab 6's tests: %v", bench)
	}
}

// TestCheck: a fresh block passes; a changed line in the code it measured,
// a wrong fingerprint and a hand edit each fail, naming the block and the
// command that refreshes it.
func TestCheck(t *testing.T) {
	root := fixture(t)
	problems, err := Check(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Why, "never generated") {
		t.Fatalf("before make docs: %v, want one never-generated block", problems)
	}
	generate(t, root)
	readme := filepath.Join(root, "labs/06-parsing/README.md")
	page, _ := os.ReadFile(readme)
	if !strings.Contains(string(page), "595.0n") || !strings.Contains(string(page), "Some prose.") || !strings.Contains(string(page), "More prose.") {
		t.Fatalf("splice lost the output or the prose:\n%s", page)
	}
	if problems, err := Check(root, nil); err != nil || len(problems) != 0 {
		t.Fatalf("after make docs: %v %v, want none", problems, err)
	}
	// Splicing again changes nothing.
	generate(t, root)
	if again, _ := os.ReadFile(readme); string(again) != string(page) {
		t.Errorf("a second splice changed the page:\n%s", again)
	}

	// A comment and the layout change: the same code, still current.
	sol := filepath.Join(root, "labs/06-parsing/solution/parser.go")
	os.WriteFile(sol, []byte("package   solution\n\n// reworded\n"), 0o644)
	if problems, _ := Check(root, nil); len(problems) != 0 {
		t.Errorf("a comment-only change made blocks stale: %v", problems)
	}

	// One line of the solution's code changes.
	os.WriteFile(sol, []byte("package solution\n\nconst n = 1\n"), 0o644)
	problems, _ = Check(root, nil)
	if len(problems) != 1 || !strings.Contains(problems[0].String(), "make bench-6") || !strings.Contains(problems[0].Why, "stale") || !strings.Contains(problems[0].Why, "make docs LAB=6") {
		t.Errorf("a changed solution: %v, want the block named stale, with make docs LAB=6", problems)
	}
	generate(t, root)
	if problems, _ := Check(root, nil); len(problems) != 0 {
		t.Errorf("after make docs LAB=6 again: %v", problems)
	}

	// A block stamped with a fingerprint that is not its code's.
	page, _ = os.ReadFile(readme)
	wrong := fingerprintRe.ReplaceAllString(string(page), "fingerprint=000000000000")
	os.WriteFile(readme, []byte(wrong), 0o644)
	if problems, _ := Check(root, nil); len(problems) != 1 || !strings.Contains(problems[0].Why, "stale") {
		t.Errorf("a wrong fingerprint: %v, want stale", problems)
	}

	// A hand edit inside the block.
	os.WriteFile(readme, []byte(strings.Replace(string(page), "595.0n", "95.0n", 1)), 0o644)
	if problems, _ := Check(root, nil); len(problems) != 1 || !strings.Contains(problems[0].Why, "other than its capture") {
		t.Errorf("a hand edit: %v, want it caught", problems)
	}
}

// TestSpliceRefusesStale: make docs -splice never stamps a capture of old
// code as current.
func TestSpliceRefusesStale(t *testing.T) {
	root := fixture(t)
	generate(t, root)
	os.WriteFile(filepath.Join(root, "labs/06-parsing/solution/parser.go"), []byte("package solution\n\nvar changed = 1\n"), 0o644)
	err := Splice(Options{Root: root, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "make docs LAB=6") {
		t.Errorf("Splice over a stale capture: %v, want a refusal naming make docs LAB=6", err)
	}
}

func TestWords(t *testing.T) {
	got := Words(`make lab-1 LAB_FLAGS='-requests 3000 -rate 800'`)
	if len(got) != 3 || got[2] != "LAB_FLAGS=-requests 3000 -rate 800" {
		t.Errorf("Words = %q", got)
	}
	if s := stripComment(`make lab-6   # a comment with 'quotes'`); strings.TrimSpace(s) != "make lab-6" {
		t.Errorf("stripComment = %q", s)
	}
	if s := stripComment(`go test -run '^$' -bench 'A#b' ./x/`); s != `go test -run '^$' -bench 'A#b' ./x/` {
		t.Errorf("stripComment cut inside quotes: %q", s)
	}
}

// TestTryFails: a renamed target, a misspelt flag and a renamed test each
// fail the check (run against this repository's Makefile and packages).
func TestTryFails(t *testing.T) {
	root := "../../.."
	for _, bad := range []string{
		"make lab-9000",
		"make lab-1 LAB_FLAGS='-reqests 3000'",
		"go test -run '^$' -bench 'NoSuchBenchmark/impl=baseline' ./labs/06-parsing/",
		"frobnicate --all",
	} {
		if did, err := Try(root, Command{Text: bad}); err == nil {
			t.Errorf("Try(%q) passed (%s); it must fail", bad, did)
		}
	}
	if _, err := Try(root, Command{Text: "make lab-1 LAB_FLAGS='-requests 3000'"}); err != nil {
		t.Errorf("a good command failed: %v", err)
	}
}

// TestDepsOfARunWithFlags: make lab-7 with LAB_FLAGS is still a lab run:
// it depends on the other labs' solutions too.
func TestDepsOfARunWithFlags(t *testing.T) {
	root := fixture(t)
	// And a command that reads lab 7's capture: when the capture is
	// measured again, its output must be too.
	for _, cmd := range []string{"make lab-7 LAB_FLAGS='-rate 300'", "go tool pprof -top profiles/reference/lab-7/before-fgprof.pb.gz"} {
		deps, err := Deps(root, ParseTarget(cmd))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(deps, " "); !strings.Contains(got, "labs/06-parsing/solution/parser.go") || !strings.Contains(got, "labs/07-batching/solution/store.go") {
			t.Errorf("%s: deps = %s", cmd, got)
		}
	}
}

// TestDepsFollowImports: the files every block depends on come from what the
// lab tool and the server import, so a package that appears is in every
// fingerprint without an edit here, and the docs machinery is in none.
func TestDepsFollowImports(t *testing.T) {
	root := fixture(t)
	writeFiles(t, root, map[string]string{
		"go.mod":                           "module example\n\ngo 1.26\n",
		"labs/cmd/flamelab-lab/main.go":    "package main\n\nimport (\n\t_ \"example/labs/internal/fresh\"\n\t_ \"example/labs/internal/docs\"\n)\n\nfunc main() {}\n",
		"labs/cmd/flamelab-lab/docs.go":    "package main\n",
		"labs/cmd/flamelab-server/main.go": "package main\n\nimport _ \"example/server\"\n\nfunc main() {}\n",
		"labs/internal/fresh/fresh.go":     "package fresh\n",
		"labs/internal/docs/docs.go":       "package docs\n",
		"labs/internal/unused/unused.go":   "package unused\n",
		"server/postgres/migrations/1.sql": "select 1;\n",
		"server/postgres/postgres.go":      "package postgres\n\nimport \"embed\"\n\n//go:embed migrations/*.sql\nvar m embed.FS\n",
		"server/server.go":                 "package server\n\nimport _ \"example/server/postgres\"\n",
	})
	deps, err := Deps(root, ParseTarget("make lab-6"))
	if err != nil {
		t.Fatal(err)
	}
	got := " " + strings.Join(deps, " ") + " "
	for _, want := range []string{"labs/internal/fresh/fresh.go", "server/postgres/migrations/1.sql", "server/postgres/postgres.go", "labs/cmd/flamelab-lab/main.go"} {
		if !strings.Contains(got, " "+want+" ") {
			t.Errorf("make lab-6 does not depend on %s, which the lab tool or the server is built from: %s", want, got)
		}
	}
	for _, not := range []string{"labs/internal/docs/docs.go", "labs/cmd/flamelab-lab/docs.go", "labs/internal/unused/unused.go"} {
		if strings.Contains(got, " "+not+" ") {
			t.Errorf("make lab-6 depends on %s, which makes no figure or is not built: %s", not, got)
		}
	}
}

// TestPruneBelowDropsTraces: a run's execution traces go, however deep
// (lab 10's flight-recorder snapshots), and nothing else does.
func TestPruneBelowDropsTraces(t *testing.T) {
	dir := t.TempDir()
	files := map[string]bool{"a.trace": false, "flight-before/f-1.trace": false, "x/y/z.trace": false, "report.md": true, "flight-before/keep.pb.gz": true}
	for f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := pruneBelow(dir); err != nil {
		t.Fatal(err)
	}
	for f, kept := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); (err == nil) != kept {
			t.Errorf("%s: kept=%v, want %v", f, err == nil, kept)
		}
	}
}
