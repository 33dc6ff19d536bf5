package claims

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
)

// TestWriteWithoutRuns: with no report anywhere, every lab with a claim
// gets a row that says which command measures it, the capstone too, and a
// lab without a claim (lab 00, about the instrument) gets none.
func TestWriteWithoutRuns(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	if err := Write(&b, func(name string) string { return filepath.Join(dir, name) }, "nothing", "test"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range labs.All {
		row := fmt.Sprintf("| %d %s |", l.Number, l.Slug)
		switch has := strings.Contains(out, row); {
		case len(l.Checks) > 0 && !has:
			t.Errorf("no row for lab %d, which has a claim:\n%s", l.Number, out)
		case len(l.Checks) == 0 && has:
			t.Errorf("a row for lab %d, which has no claim to check:\n%s", l.Number, out)
		case has && !strings.Contains(out, fmt.Sprintf("run `make lab-%d`", l.Number)):
			t.Errorf("lab %d's row does not say how to measure it:\n%s", l.Number, out)
		}
	}
	if !strings.Contains(out, "no capstone report: run `make capstone`") {
		t.Errorf("the capstone's row does not say how to measure it:\n%s", out)
	}
}
