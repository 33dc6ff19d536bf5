package baseline

import (
	"io"
	"strings"
)

// Reader splits request bodies into lines.
type Reader struct{}

// New returns the baseline body reader.
func New() Reader { return Reader{} }

// ReadLines implements server.BodyReader.
func (Reader) ReadLines(body io.Reader) ([][]byte, func(), error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, func() {}, err
	}
	if len(data) == 0 {
		return nil, func() {}, nil
	}
	text := string(data)
	ended := strings.HasSuffix(text, "\n")
	parts := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	lines := make([][]byte, 0, len(parts))
	for i, p := range parts {
		// A "\r" is a line ending only before a "\n": a last line that
		// ends in a lone "\r" keeps it (and the parser refuses it).
		if i < len(parts)-1 || ended {
			p = strings.TrimSuffix(p, "\r")
		}
		lines = append(lines, []byte(p))
	}
	return lines, func() {}, nil
}
