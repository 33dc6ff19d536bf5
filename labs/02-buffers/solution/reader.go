package solution

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
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

// buffer is one request's body and its lines. gen counts its hand-outs:
// each hand-out's release puts it back only if no release of that hand-out
// ran before, so a second call is harmless; without it, a second release
// would pool a buffer another request was using, and two requests would
// share their bytes.
type buffer struct {
	data  []byte
	lines [][]byte
	gen   atomic.Uint64
}

var pool sync.Pool

// New is set here, not in pool's declaration: its release puts into pool.
func init() { pool.New = newBuffer }

func newBuffer() any { return &buffer{} }

// releaser returns the release of b's current hand-out: one small closure
// per request, the price of a release that cannot be called twice.
func (b *buffer) releaser() func() {
	g := b.gen.Load()
	return func() {
		if !b.gen.CompareAndSwap(g, g+1) {
			return // this hand-out was released already
		}
		if cap(b.data) > maxPooled || cap(b.lines) > maxPooledLines {
			return // let the GC have it
		}
		clear(b.lines) // no stale sub-slices keep anything reachable
		b.data, b.lines = b.data[:0], b.lines[:0]
		pool.Put(b)
	}
}

// ReadLines implements server.BodyReader.
func (Reader) ReadLines(body io.Reader) ([][]byte, func(), error) {
	b := pool.Get().(*buffer)
	release := b.releaser()
	data, err := readAll(body, b.data[:0])
	b.data = data
	if err != nil || len(data) == 0 {
		return nil, release, err
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
		lines = append(lines, capped(bytes.TrimSuffix(data[:i], cr)))
		data = data[i+1:]
	}
	// The last line: its "\r" is a line ending only if a "\n" followed.
	if ended {
		data = bytes.TrimSuffix(data, cr)
	}
	lines = append(lines, capped(data))
	b.lines = lines
	return lines, release, nil
}

var cr = []byte{'\r'}

// capped is line with its capacity cut to its length (a full slice
// expression): an append to it then copies, rather than write over the
// next line in the shared buffer.
func capped(line []byte) []byte { return line[:len(line):len(line)] }

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
