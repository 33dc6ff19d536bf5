// Package baseline is the audit trail the flamelab server ships: the slow
// spot of lab 05-blocking.
//
// The requirement is real: a request may be acknowledged only once its audit
// record is on stable storage. The code is the direct translation: take a
// mutex, append the record, fsync, release. It is correct, and it makes every
// request in the server wait in line for every other request's fsync (about a
// millisecond or more on real disks), so throughput is capped at one request
// per fsync whatever the CPU count. The CPU profile barely shows it: the
// goroutines are waiting, not running. Lab 05 finds it with fgprof's
// wall-clock profile and the mutex and block profiles.
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

// Open opens (creating if needed) the audit file at path for appending.
func Open(path string) (*Auditor, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	return New(f), nil
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
