package blocking_test

import (
	"context"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/server"
)

// The tempting wrong fixes. Each is faster than the baseline, and each is
// caught by one of this lab's checks; the README measures them.

// noSync drops the fsync: fast, and a crash loses acknowledged records.
type noSync struct {
	mu sync.Mutex
	f  File
}

func (a *noSync) Append(_ context.Context, rec []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.f.Write(append(append([]byte{}, rec...), '\n'))
	return err
}
func (a *noSync) Close() error { return a.f.Close() }

// ackBeforeSync answers once the record is written and syncs behind the
// request's back: fast, and the answer is a promise the disk has not made.
type ackBeforeSync struct {
	mu sync.Mutex
	f  File
	wg sync.WaitGroup
}

func (a *ackBeforeSync) Append(_ context.Context, rec []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(append([]byte{}, rec...), '\n')); err != nil {
		return err
	}
	a.wg.Go(func() { a.f.Sync() })
	return nil
}
func (a *ackBeforeSync) Close() error { a.wg.Wait(); return a.f.Close() }

// unlockBeforeSync holds the lock only for the write: requests no longer
// queue behind each other's fsync, but each still makes its own.
type unlockBeforeSync struct {
	mu sync.Mutex
	f  File
}

func (a *unlockBeforeSync) Append(_ context.Context, rec []byte) error {
	a.mu.Lock()
	_, err := a.f.Write(append(append([]byte{}, rec...), '\n'))
	a.mu.Unlock()
	if err != nil {
		return err
	}
	return a.f.Sync()
}
func (a *unlockBeforeSync) Close() error { return a.f.Close() }

var wrongFixes = map[string]func(File) server.Auditor{
	"no-fsync":           func(f File) server.Auditor { return &noSync{f: f} },
	"ack-before-fsync":   func(f File) server.Auditor { return &ackBeforeSync{f: f} },
	"unlock-before-sync": func(f File) server.Auditor { return &unlockBeforeSync{f: f} },
}

// TestWrongFixesAreCaught shows the checks can fail: each wrong fix breaks
// the durability check or the fsync budget.
func TestWrongFixesAreCaught(t *testing.T) {
	for name, newAuditor := range wrongFixes {
		o := drive(t, newAuditor, 16, 25, slowDisk, 0)
		durable := len(o.violations) == 0
		withinBudget := float64(o.syncs)/float64(o.records) <= fsyncBudget.Max
		t.Logf("%s: %d of %d acknowledgements before their fsync; %d fsyncs for %d records", name, len(o.violations), o.records, o.syncs, o.records)
		switch name {
		case "no-fsync", "ack-before-fsync":
			if durable {
				t.Errorf("%s acknowledged every record after its fsync: the durability check cannot see this bug", name)
			}
		case "unlock-before-sync":
			if !durable || withinBudget {
				t.Errorf("%s: durable=%v, within the fsync budget=%v; want durable and over budget", name, durable, withinBudget)
			}
		}
	}
}
