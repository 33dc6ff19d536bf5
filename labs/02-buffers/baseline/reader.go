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
	text := strings.TrimSuffix(string(data), "\n")
	parts := strings.Split(text, "\n")
	lines := make([][]byte, 0, len(parts))
	for _, p := range parts {
		lines = append(lines, []byte(strings.TrimSuffix(p, "\r")))
	}
	return lines, func() {}, nil
}
