package locks_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// stallBudget: while one /stats reader has stopped reading its response,
// every one of 100 ingest requests' Observe calls must complete.
var stallBudget = labtest.Budget{
	Lab:     3,
	Count:   "ingest requests (of 100) left waiting while one /stats reader has stopped reading",
	Max:     0,
	Why:     "WriteJSON holds the lock while it sorts and writes to the client: a client that reads slowly holds every ingest request.",
	Profile: "after-mutex",
	Look: "which frames wait on the lock, and who holds it? Then PROFILE=after-block, and the CPU profile: lock wait is not CPU.\n" +
		"  Run make lab-3 first: its mixed load includes a slow /stats reader.",
	Read: "labs/03-locks/README.md, hints 1 and 2.",
}

// blockingWriter is a client that stops reading: its first Write blocks
// until released.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	select {
	case <-b.entered:
	default:
		close(b.entered)
	}
	<-b.release
	return len(p), nil
}

func TestStalledReaderBudget(t *testing.T) {
	const requests = 100
	labtest.Judge(t, stallBudget, all, func(t *testing.T, impl labtest.Impl[func() server.Stats]) labtest.Count {
		return labtest.Count{Value: float64(requests - stalledDuring(t, impl.Of(), requests))}
	})
}

// stalledDuring starts a /stats read whose client stops reading, then
// requests Observe calls, and returns how many completed before the reader
// was released.
func stalledDuring(t *testing.T, s server.Stats, requests int) int {
	for i := range 50 {
		s.Observe(request(i))
	}
	w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
	readerDone := make(chan error, 1)
	go func() { readerDone <- s.WriteJSON(w) }()
	<-w.entered // the reader is now blocked in its write to the client

	var done atomic.Int64
	all := make(chan struct{})
	go func() {
		for i := range requests {
			s.Observe(request(i))
			done.Add(1)
		}
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(2 * time.Second):
		// A deadlock detector, not a timing: 100 Observe calls take
		// microseconds; these are waiting for the stalled reader.
	}
	completed := int(done.Load())
	close(w.release)
	if err := <-readerDone; err != nil {
		t.Errorf("WriteJSON: %v", err)
	}
	<-all
	return completed
}
