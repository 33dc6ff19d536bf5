// The other ways to read a body into lines that the lesson compares, each
// checked against the baseline here and measured in bench_test.go.
package buffers_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/flamelab/flamelab/labs/02-buffers/solution"
	"github.com/flamelab/flamelab/server"
)

// scanner reads with bufio.Scanner. Its lines are only valid until the next
// Scan, so each must be copied to outlive the loop: one allocation per line.
// Its default limit of 64 KiB per line must also be raised to the body limit.
type scanner struct{}

func (scanner) ReadLines(body io.Reader) ([][]byte, func(), error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), server.DefaultMaxBodyBytes+1)
	sc.Split(scanLines)
	var lines [][]byte
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	return lines, func() {}, sc.Err()
}

// scanLines is bufio.ScanLines, except that a final lone "\r" is kept: the
// contract's line endings are "\n" and "\r\n" only.
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, bytes.TrimSuffix(data[:i], []byte{'\r'}), nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// buffered reads into a fresh bytes.Buffer and splits with bytes.Split: the
// lines share the body's memory, but nothing is reused between requests.
type buffered struct{}

func (buffered) ReadLines(body io.Reader) ([][]byte, func(), error) {
	var b bytes.Buffer
	if _, err := b.ReadFrom(body); err != nil || b.Len() == 0 {
		return nil, func() {}, err
	}
	data := b.Bytes()
	ended := data[len(data)-1] == '\n'
	lines := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	for i := range lines {
		if i < len(lines)-1 || ended {
			lines[i] = bytes.TrimSuffix(lines[i], []byte{'\r'})
		}
	}
	return lines, func() {}, nil
}

var methods = []struct {
	name string
	r    server.BodyReader
}{
	{"readall-string-split", reference}, // the baseline
	{"bufio-scanner", scanner{}},
	{"bytes-buffer-split", buffered{}},
	{"pooled", solution.New()},
}

func TestAlternatives(t *testing.T) {
	for _, m := range methods {
		for name, body := range cases {
			want, wantErr := read(reference, []byte(body))
			got, err := read(m.r, []byte(body))
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("%s, %s: lines differ from the baseline's", m.name, name)
			}
		}
		objects, b := perRequest(m.r, bodies(), 100)
		t.Logf("%s: %.1f objects and %.0f bytes per request", m.name, objects, b)
	}
}
