package labs

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/flamelab/flamelab/server"
)

// countingFile is the audit file with its fsyncs counted.
type countingFile struct {
	*os.File
	syncs  *atomic.Int64
	noSync bool
}

func (f countingFile) Sync() error {
	if f.noSync {
		return nil
	}
	f.syncs.Add(1)
	return f.File.Sync()
}

// openAudit opens the audit file for appending, counting fsyncs when asked,
// and sets s.Auditor to what newAuditor makes of it.
func openAudit(env Env, s *server.Stages, newAuditor func(countingFile) server.Auditor) error {
	f, err := os.OpenFile(env.AuditPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return fmt.Errorf("open audit file: %w (it must be a regular file, not a symlink)", err)
	}
	syncs := env.Fsyncs
	if syncs == nil {
		syncs = new(atomic.Int64)
	}
	s.Auditor = newAuditor(countingFile{File: f, syncs: syncs, noSync: env.NoAuditFsync})
	return nil
}
