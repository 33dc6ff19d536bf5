// The correctness tests of lab 05-blocking. They judge every implementation
// of the audit trail (or those named by FLAMELAB_IMPL, as make check-5 does)
// through a file wrapper that records every write, every fsync and every
// acknowledgement: no acknowledgement may come before the fsync that covers
// its record. budget_test.go counts the fsyncs; bench_test.go times them.
package blocking_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/05-blocking/baseline"
	"github.com/flamelab/flamelab/labs/05-blocking/exercise"
	"github.com/flamelab/flamelab/labs/05-blocking/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// File is the interface every implementation writes through.
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

var all = map[labs.Impl]func(File) server.Auditor{
	labs.Baseline: func(f File) server.Auditor { return baseline.New(f) },
	labs.Exercise: func(f File) server.Auditor { return exercise.New(f) },
	labs.Solution: func(f File) server.Auditor { return solution.New(f, solution.Options{}) },
}

var errInjected = errors.New("injected: disk full")

// recFile is a real file that records what each fsync made durable. An
// fsync makes durable everything written to the file before it started, by
// any goroutine, so every write gets a sequence number and every successful
// fsync moves a "durable up to" mark.
//
// Its Sync takes at least syncDelay: a slow disk, so that an implementation
// that answers before its fsync is caught every time, not only when the
// scheduler happens to expose it.
type recFile struct {
	f         *os.File
	syncDelay time.Duration
	failSync  int // the n-th Sync (1-based) fails; 0: none

	mu        sync.Mutex
	writes    int            // completed writes
	writtenAt map[string]int // id -> the write that carried it (1-based)
	durableTo int            // every write up to this one is on disk
	failed    map[string]bool
	syncs     int
}

var idPattern = regexp.MustCompile(`"id":"(r-\d+)"`)

func newRecFile(t testing.TB, delay time.Duration) *recFile {
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "audit.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return &recFile{f: f, syncDelay: delay, writtenAt: map[string]int{}, failed: map[string]bool{}}
}

func (r *recFile) Write(p []byte) (int, error) {
	n, err := r.f.Write(p)
	r.mu.Lock()
	r.writes++
	for _, m := range idPattern.FindAllSubmatch(p, -1) {
		r.writtenAt[string(m[1])] = r.writes
	}
	r.mu.Unlock()
	return n, err
}

func (r *recFile) Sync() error {
	r.mu.Lock()
	covers := r.writes // what this fsync will make durable
	r.syncs++
	n := r.syncs
	r.mu.Unlock()

	time.Sleep(r.syncDelay) // the slow disk
	err := r.f.Sync()
	if n == r.failSync {
		err = errInjected
	}
	r.mu.Lock()
	if err == nil {
		r.durableTo = max(r.durableTo, covers)
	} else {
		for id, w := range r.writtenAt {
			if w <= covers && w > r.durableTo {
				r.failed[id] = true
			}
		}
	}
	r.mu.Unlock()
	return err
}

func (r *recFile) Close() error { return r.f.Close() }

func (r *recFile) isSynced(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.writtenAt[id]
	return ok && w <= r.durableTo
}

// outcome is what one load run observed.
type outcome struct {
	records    int
	syncs      int
	violations []string         // acknowledgements before their fsync
	results    map[string]error // per record id
	acked      map[string]int   // id -> order of acknowledgement
	started    map[string]int   // id -> order of the Append call
	file       string
	rf         *recFile
}

// drive runs writers goroutines, each appending perWriter records, through
// an auditor on a recFile, and checks every acknowledgement as it happens.
func drive(t testing.TB, newAuditor func(File) server.Auditor, writers, perWriter int, delay time.Duration, failSync int) outcome {
	t.Helper()
	rf := newRecFile(t, delay)
	rf.failSync = failSync
	a := newAuditor(rf)
	out := outcome{results: map[string]error{}, acked: map[string]int{}, started: map[string]int{}, file: rf.f.Name(), rf: rf}
	var mu sync.Mutex
	var seq atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				id := fmt.Sprintf("r-%d", w*100000+i)
				rec := fmt.Appendf(nil, `{"id":"%s","writer":%d,"n":%d}`, id, w, i)
				start := int(seq.Add(1))
				err := a.Append(context.Background(), rec)
				// Checked at once, in the acknowledging goroutine: was
				// the record's fsync done before the answer?
				ok := err != nil || rf.isSynced(id)
				end := int(seq.Add(1))
				mu.Lock()
				out.results[id] = err
				out.started[id] = start
				if err == nil {
					out.acked[id] = end
					if !ok {
						out.violations = append(out.violations, id)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	out.records = writers * perWriter
	out.syncs = rf.syncs
	return out
}

const slowDisk = time.Millisecond

func TestNoAckBeforeSync(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			o := drive(t, impl.Of, 16, 20, slowDisk, 0)
			if len(o.violations) > 0 {
				t.Errorf("%d records acknowledged before the fsync that covers them (e.g. %s): a crash would lose them",
					len(o.violations), o.violations[0])
			}
			for id, err := range o.results {
				if err != nil {
					t.Fatalf("record %s failed: %v", id, err)
				}
			}
		})
	}
}

func TestSyncErrorReachesEveryWaiter(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			o := drive(t, impl.Of, 16, 10, slowDisk, 3) // the third fsync fails
			o.rf.mu.Lock()
			failed := o.rf.failed
			o.rf.mu.Unlock()
			if len(failed) == 0 {
				t.Fatal("the injected fsync failure covered no record: the test did not test anything")
			}
			for id := range failed {
				if o.results[id] == nil {
					t.Errorf("record %s was in the batch whose fsync failed, yet its Append returned nil", id)
				} else if !errors.Is(o.results[id], errInjected) {
					t.Errorf("record %s: error %v does not wrap the fsync's error", id, o.results[id])
				}
			}
			for id, err := range o.results {
				if err != nil && !failed[id] {
					t.Errorf("record %s failed (%v) but was not in the failed batch", id, err)
				}
			}
			t.Logf("%s: the failed fsync covered %d records; all got the error", impl.Name, len(failed))
		})
	}
}

// TestContent: the file holds every acknowledged record exactly once, each
// line parses, and a record acknowledged before another was appended comes
// first in the file.
func TestContent(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			o := drive(t, impl.Of, 8, 25, 0, 0)
			f, err := os.Open(o.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pos := map[string]int{}
			sc := bufio.NewScanner(f)
			for n := 0; sc.Scan(); n++ {
				var rec struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
					t.Fatalf("line %d does not parse: %q", n+1, sc.Text())
				}
				if _, dup := pos[rec.ID]; dup {
					t.Errorf("record %s is in the file twice", rec.ID)
				}
				pos[rec.ID] = n
			}
			for id := range o.acked {
				if _, ok := pos[id]; !ok {
					t.Errorf("acknowledged record %s is not in the file", id)
				}
			}
			for a, ackA := range o.acked {
				for b := range o.acked {
					if ackA < o.started[b] && pos[a] > pos[b] {
						t.Errorf("record %s was acknowledged before %s was appended, but comes after it in the file", a, b)
					}
				}
			}
		})
	}
}
