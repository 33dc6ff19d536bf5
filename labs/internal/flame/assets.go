package flame

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The parts of pprof's flame graph page that are the same on every page:
// its script and its style, tens of kilobytes each.
var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?s)<style type="text/css">(.*?)</style>`)
)

// minShared is the least size of an inline script or style worth sharing:
// below it, a file of its own saves less than it costs a reader.
const minShared = 2 << 10

// ShareAssets moves the large inline scripts and styles of the pages (every
// one pprof's flame graph page repeats) into files under assets, named by
// their content, and links them by a relative path instead: a set of pages
// then holds pprof's code once. A script holding a page's own data
// (stackViewer's call) stays inline. The pages still open from file://.
// It returns the asset files the pages now use.
func ShareAssets(pages []string, assets string) ([]string, error) {
	used := map[string]bool{}
	if err := os.MkdirAll(assets, 0o755); err != nil {
		return nil, err
	}
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(filepath.Dir(page), assets)
		if err != nil {
			return nil, err
		}
		var firstErr error
		share := func(body, ext string) string {
			name := hashName(body) + ext
			path := filepath.Join(assets, name)
			if _, err := os.Stat(path); err != nil {
				if err := os.WriteFile(path, []byte(body), 0o644); err != nil && firstErr == nil {
					firstErr = err
				}
			}
			used[path] = true
			return filepath.ToSlash(filepath.Join(rel, name))
		}
		s := inlineScript.ReplaceAllStringFunc(string(b), func(m string) string {
			body := inlineScript.FindStringSubmatch(m)[1]
			if len(body) < minShared || strings.Contains(body, "stackViewer({") {
				return m
			}
			return fmt.Sprintf(`<script src="%s"></script>`, share(body, ".js"))
		})
		s = inlineStyle.ReplaceAllStringFunc(s, func(m string) string {
			body := inlineStyle.FindStringSubmatch(m)[1]
			if len(body) < minShared {
				return m
			}
			return fmt.Sprintf(`<link rel="stylesheet" href="%s">`, share(body, ".css"))
		})
		if firstErr != nil {
			return nil, firstErr
		}
		if err := os.WriteFile(page, []byte(s), 0o644); err != nil {
			return nil, err
		}
	}
	var out []string
	for p := range used {
		out = append(out, p)
	}
	return out, nil
}

func hashName(s string) string {
	h := sha256.Sum256([]byte(s))
	return "pprof-" + hex.EncodeToString(h[:6])
}
