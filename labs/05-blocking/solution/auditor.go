package solution

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// File is what the audit trail is written to: an *os.File, or in tests a
// wrapper that records every write and sync.
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// Options tune the writer; the zero value means the defaults.
type Options struct {
	Queue    int // most records waiting for the writer; default 1024
	MaxBatch int // most bytes written per batch; default 1 MiB
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit trail is closed")

// Auditor appends records to a file with one fsync per batch.
type Auditor struct {
	f    File
	opts Options

	queue   chan *record
	closing chan struct{}
	done    chan struct{}
	mu      sync.RWMutex // orders Append and Close, so the final drain misses no one
	closed  bool
	err     error // Close's result, from the writer
}

type record struct {
	data   []byte
	result chan error // buffered: the writer never waits for a request
}

// New starts an auditor appending to f; Close closes f.
func New(f File, opts Options) *Auditor {
	if opts.Queue <= 0 {
		opts.Queue = 1024
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1 << 20
	}
	a := &Auditor{
		f:       f,
		opts:    opts,
		queue:   make(chan *record, opts.Queue),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go a.writer()
	return a
}

// Append implements server.Auditor.
func (a *Auditor) Append(ctx context.Context, data []byte) error {
	r := &record{data: data, result: make(chan error, 1)}
	a.mu.RLock()
	if a.closed {
		a.mu.RUnlock()
		return ErrClosed
	}
	select {
	case a.queue <- r:
		a.mu.RUnlock()
	case <-ctx.Done():
		a.mu.RUnlock()
		return fmt.Errorf("audit record not queued: the queue stayed full until the request's deadline (%w)", ctx.Err())
	}
	// Queued: wait for the verdict of the fsync that covers it, whatever
	// happens to ctx, since the record may already be on its way to disk.
	return <-r.result
}

func (a *Auditor) writer() {
	defer close(a.done)
	var buf []byte
	for {
		var first *record
		select {
		case first = <-a.queue:
		case <-a.closing:
			for {
				select {
				case r := <-a.queue:
					buf = a.commit(a.gather(r), buf)
				default:
					a.err = a.f.Close()
					return
				}
			}
		}
		buf = a.commit(a.gather(first), buf)
	}
}

// gather takes first and every record already queued, up to MaxBatch bytes.
// It does not wait for more: records that arrive during the fsync form the
// next batch by themselves.
func (a *Auditor) gather(first *record) []*record {
	batch := []*record{first}
	size := len(first.data) + 1
	for size < a.opts.MaxBatch {
		select {
		case r := <-a.queue:
			batch = append(batch, r)
			size += len(r.data) + 1
			continue
		default:
		}
		break
	}
	return batch
}

// commit writes and syncs a batch, then answers every request in it. buf is
// reused from batch to batch.
func (a *Auditor) commit(batch []*record, buf []byte) []byte {
	buf = buf[:0]
	for _, r := range batch {
		buf = append(append(buf, r.data...), '\n')
	}
	_, err := a.f.Write(buf)
	if err != nil {
		err = fmt.Errorf("audit write: %w", err)
	} else if err = a.f.Sync(); err != nil {
		err = fmt.Errorf("audit fsync: %w", err)
	}
	for _, r := range batch {
		r.result <- err
	}
	return buf
}

// Close implements server.Auditor.
func (a *Auditor) Close() error {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.closing)
	}
	a.mu.Unlock()
	<-a.done
	return a.err
}
