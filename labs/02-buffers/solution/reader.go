package solution

import (
	"bytes"
	"io"
	"sync"
)

// Reader splits request bodies into lines held in pooled buffers.
type Reader struct{}

// New returns the solution's body reader.
func New() Reader { return Reader{} }

// Buffers that grew past these are dropped at release rather than pooled: a
// pool holds its buffers until two GCs have passed, and must not keep a 1 MiB
// buffer alive for requests of a few kilobytes.
const (
	maxPooled      = 64 << 10 // bytes of body
	maxPooledLines = 4096     // lines
)

// buffer is one request's body and its lines. release is made once per
// buffer, so handing it out allocates nothing.
type buffer struct {
	data    []byte
	lines   [][]byte
	release func()
}

var pool sync.Pool

// New is set here, not in pool's declaration: its release puts into pool.
func init() { pool.New = newBuffer }

func newBuffer() any {
	b := &buffer{}
	b.release = func() {
		if cap(b.data) > maxPooled || cap(b.lines) > maxPooledLines {
			return // let the GC have it
		}
		clear(b.lines) // no stale sub-slices keep anything reachable
		b.data, b.lines = b.data[:0], b.lines[:0]
		pool.Put(b)
	}
	return b
}

// ReadLines implements server.BodyReader.
func (Reader) ReadLines(body io.Reader) ([][]byte, func(), error) {
	b := pool.Get().(*buffer)
	data, err := readAll(body, b.data[:0])
	b.data = data
	if err != nil || len(data) == 0 {
		return nil, b.release, err
	}
	ended := data[len(data)-1] == '\n'
	if ended {
		data = data[:len(data)-1]
	}
	lines := b.lines[:0]
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, bytes.TrimSuffix(data[:i], cr))
		data = data[i+1:]
	}
	// The last line: its "\r" is a line ending only if a "\n" followed.
	if ended {
		data = bytes.TrimSuffix(data, cr)
	}
	lines = append(lines, data)
	b.lines = lines
	return lines, b.release, nil
}

var cr = []byte{'\r'}

// readAll is io.ReadAll into buf's spare capacity: a warm buffer needs no
// growing, hence no copying.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow, as io.ReadAll does
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
