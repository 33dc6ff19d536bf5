package baseline

import (
	"context"
	"fmt"
	"os"
	"sync"
)

// File is what the audit trail is written to: an *os.File, or in tests a
// wrapper that records every write and sync.
type File interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// Auditor appends records to a file, one fsync per record.
type Auditor struct {
	mu sync.Mutex
	f  File
}

// New returns an auditor appending to f; Close closes f.
func New(f File) *Auditor { return &Auditor{f: f} }

// Append implements server.Auditor.
func (a *Auditor) Append(ctx context.Context, record []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return os.ErrClosed
	}
	line := make([]byte, 0, len(record)+1)
	line = append(append(line, record...), '\n')
	if _, err := a.f.Write(line); err != nil {
		return fmt.Errorf("audit write: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit fsync: %w", err)
	}
	return nil
}

// Close implements server.Auditor.
func (a *Auditor) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}
