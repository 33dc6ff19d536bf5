package labs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// PristineExercise returns the code of the lab's exercise as it starts, as
// make reset-N writes it: every .go file of baseline/ except doc.go (the
// exercise has its own), with the package clause renamed. root is the
// repository root.
func (l *Lab) PristineExercise(root string) (map[string][]byte, error) {
	dir := filepath.Join(root, l.Path(), string(Baseline))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("lab %d: no Go files in %s (run this from the repository root)", l.Number, dir)
	}
	out := map[string][]byte{}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "doc.go" || strings.HasSuffix(name, "_test.go") {
			continue
		}
		code, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		renamed := packageClause.ReplaceAll(code, []byte("package "+string(Exercise)))
		if bytes.Equal(renamed, code) {
			return nil, fmt.Errorf("%s has no line \"package baseline\": every baseline file must be in package baseline", f)
		}
		out[name] = renamed
	}
	return out, nil
}

var packageClause = regexp.MustCompile(`(?m)^package baseline$`)
