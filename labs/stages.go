package labs

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/server"
)

// Impl names an implementation of a lab's stage.
type Impl string

// The implementations a lab can have.
const (
	Baseline Impl = "baseline"
	Exercise Impl = "exercise"
	Solution Impl = "solution"
)

// Env is what stage implementations are built from.
type Env struct {
	Pool      *pgxpool.Pool // the events database; not owned by the stages
	AuditPath string        // the audit trail's file
	// Fsyncs, if set, counts the audit file's fsyncs: the file is opened
	// here and handed to the auditor, which makes no difference to it.
	Fsyncs *atomic.Int64
	// DBTimeout bounds a store's own database work, where it is not a
	// request's (a batch writer's); 0 means the store's default.
	DBTimeout time.Duration
	// NoAuditFsync makes the audit file's Sync do nothing (and count
	// nothing): an experiment of make capstone's, which asks how much the
	// fixed server waits for the audit's fsyncs. An acknowledged request's
	// record can then be lost in a crash: never for a real trail.
	NoAuditFsync bool
}

// Build assembles the stages c picks. It builds them from the last lab to
// the first, so a stage that runs inside an earlier lab's (lab 8's
// pipeline, inside lab 7's store: Lab.Extends) exists when that one is
// built.
func Build(env Env, c Choice) (server.Stages, error) {
	var s server.Stages
	for _, l := range slices.Backward(All) {
		if l.Stage == "" {
			continue // a lab about the instrument, not the server (lab 00)
		}
		impl := c.Get(l.Number)
		build, ok := l.build[impl]
		switch {
		case !ok && impl == Exercise && l.Has(Exercise):
			return s, fmt.Errorf("lab %d's exercise is not compiled into this binary: build it with -tags %s "+
				"(make serve STAGES=%d=exercise and make lab-%d IMPL=exercise do that for you)", l.Number, l.ExerciseTag(), l.Number, l.Number)
		case !ok:
			return s, fmt.Errorf("lab %d (%s) has no %s", l.Number, l.Slug, impl)
		}
		if err := build(env, &s); err != nil {
			return s, fmt.Errorf("lab %d (%s) %s: %w", l.Number, l.Slug, impl, err)
		}
	}
	return s, nil
}

// Close closes the stages that hold resources, in the order a shutdown
// needs: nothing new reaches the audit trail or the store after this.
func Close(s server.Stages) error {
	var err error
	if s.Auditor != nil {
		err = errors.Join(err, s.Auditor.Close())
	}
	if s.Store != nil {
		err = errors.Join(err, s.Store.Close())
	}
	return err
}
