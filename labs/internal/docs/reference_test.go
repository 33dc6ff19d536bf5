package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
)

// referenceBudget is the most the committed reference captures may weigh:
// a few MB, so a clone stays small, and every regeneration adds no more
// than that to the history. 7 MB since the profiled legs fill their whole
// window with work (2026-12-01): a full window samples about a third more
// distinct stacks, and the pages grew with them (5.5 MB to 6.6 MB). 8 MB
// with lab 08's captures (a lab's pages are about 0.6 MB), 9 MB with lab
// 09's (its pages, and the profiles its default.pgo is made of), 11 MB with
// lab 10's (its pages, and the profiles of its three comparisons; its
// flight-recorder snapshots, megabytes each, are read into production.md
// and not kept).
const referenceBudget = 11 << 20

// TestReferenceCaptures: the captures a reader without Docker follows are
// all there, within the budget, and every link in them opens.
func TestReferenceCaptures(t *testing.T) {
	root := filepath.Join("..", "..", "..", RefDir)
	var total int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("no reference captures (%v): run make docs", err)
	}
	t.Logf("profiles/reference: %.1f MB (budget %.0f MB)", float64(total)/(1<<20), float64(referenceBudget)/(1<<20))
	if total > referenceBudget {
		t.Errorf("profiles/reference weighs %.1f MB, over its %.0f MB budget: prune more pages (docs.keepPages)", float64(total)/(1<<20), float64(referenceBudget)/(1<<20))
	}
	dirs := []string{"capstone", "capstone/compare", "lab-6-aa"}
	for _, l := range labs.Staged() { // lab 00 has no flame graphs
		dirs = append(dirs, fmt.Sprintf("lab-%d", l.Number))
		for _, side := range []string{"before", "after", "diff"} {
			page := filepath.Join(root, fmt.Sprintf("lab-%d", l.Number), side+"-"+l.Profile+".html")
			if _, err := os.Stat(page); err != nil {
				t.Errorf("lab %d's lesson links %s: %v", l.Number, page, err)
			}
		}
	}
	link := regexp.MustCompile(`(?:href|src)="([^"#]+)"`)
	for _, d := range dirs {
		pages, _ := filepath.Glob(filepath.Join(root, d, "*.html"))
		if len(pages) == 0 {
			t.Errorf("%s: no pages", d)
		}
		for _, page := range pages {
			b, _ := os.ReadFile(page)
			for _, m := range link.FindAllStringSubmatch(string(b), -1) {
				if strings.Contains(m[1], "://") {
					t.Errorf("%s links outside the capture: %s", page, m[1])
					continue
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(page), m[1])); err != nil {
					t.Errorf("%s links %s, which is not there", page, m[1])
				}
			}
		}
	}
}
