package labs

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/flamelab/flamelab/server"
)

// AuditFile is the audit file with its fsyncs counted (Env.Fsyncs), or,
// under Env.NoAuditFsync, not made at all: what every implementation of
// lab 5's stage writes to.
type AuditFile struct {
	*os.File
	syncs  *atomic.Int64
	noSync bool
}

// Sync flushes the file to the disk and counts it.
func (f AuditFile) Sync() error {
	if f.noSync {
		return nil
	}
	f.syncs.Add(1)
	return f.File.Sync()
}

// OpenAudit opens env's audit file for appending, its fsyncs counted, and
// sets s.Auditor to what newAuditor makes of it.
func OpenAudit(env Env, s *server.Stages, newAuditor func(AuditFile) server.Auditor) error {
	f, err := os.OpenFile(env.AuditPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return fmt.Errorf("open audit file: %w (it must be a regular file, not a symlink)", err)
	}
	syncs := env.Fsyncs
	if syncs == nil {
		syncs = new(atomic.Int64)
	}
	s.Auditor = newAuditor(AuditFile{File: f, syncs: syncs, noSync: env.NoAuditFsync})
	return nil
}
