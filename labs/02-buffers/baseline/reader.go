// Package baseline is the request-body reader the flamelab server ships: the
// slow spot of lab 02-buffers.
//
// It is the shape of most Go handlers that take a text body: io.ReadAll,
// convert to a string to use the strings package, split, trim, and convert
// each line back to []byte for the next step. Each conversion copies the whole
// body, io.ReadAll grows its buffer by doubling (more copies), and nothing is
// reused between requests, so every request allocates its body several times
// over. Lab 02 finds it in the allocation profile.
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
