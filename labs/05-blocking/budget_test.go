package blocking_test

import (
	"fmt"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// fsyncBudget: with 16 concurrent writers, at most one fsync per 4 records.
// The baseline makes one per record, whatever the concurrency.
var fsyncBudget = labtest.Budget{
	Lab:     5,
	Count:   "fsyncs per record (16 concurrent writers, 25 records each, a 1 ms disk)",
	Max:     0.25,
	Why:     "every request waits for its own fsync, one after another, under one lock.",
	Profile: "after-fgprof",
	Look:    "focus on postEvents: where does the wall-clock time go? Then PROFILE=after-mutex.",
	Read:    "labs/05-blocking/README.md, hints 1 and 2.",
}

func TestFsyncBudget(t *testing.T) {
	const writers, each = 16, 25
	labtest.Judge(t, fsyncBudget, all, func(t *testing.T, impl labtest.Impl[func(File) server.Auditor]) labtest.Count {
		o := drive(t, impl.Of, writers, each, slowDisk, 0)
		return labtest.Count{Value: float64(o.syncs) / float64(o.records), Detail: fmt.Sprintf("%d fsyncs for %d records", o.syncs, o.records)}
	})
}
