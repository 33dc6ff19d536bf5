// The correctness tests of lab 07-batching, against a real Postgres (the
// testcontainer in CI). They judge every implementation of the event store
// (or those named by FLAMELAB_IMPL, as make check-7 does): the same rows and
// reads as the baseline, and durability when the database connections die.
// budget_test.go counts round trips with pgx's tracer interfaces;
// bench_test.go times them.
package batching_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/07-batching/baseline"
	"github.com/flamelab/flamelab/labs/07-batching/exercise"
	"github.com/flamelab/flamelab/labs/07-batching/solution"
	"github.com/flamelab/flamelab/labs/internal/storetest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var all = storetest.Impls{
	labs.Baseline: func(p *pgxpool.Pool) server.Store { return baseline.New(p) },
	labs.Exercise: func(p *pgxpool.Pool) server.Store { return exercise.New(p) },
	labs.Solution: func(p *pgxpool.Pool) server.Store { return solution.New(p, solution.Options{}) },
}

// The store's helpers and correctness suite live in labs/internal/storetest,
// shared with lab 08-pipeline, whose pipelines run inside this lab's
// solution.
var (
	setup      = storetest.Setup
	open       = storetest.Open
	events     = storetest.Events
	requestID  = storetest.RequestID
	insert     = storetest.Insert
	stored     = storetest.Stored
	withBadRow = storetest.WithBadRow
)

// TestSameResults: every implementation stores the same rows and reads back
// the same events as the baseline.
func TestSameResults(t *testing.T) { storetest.SameResults(t, all, "lab7") }

// TestKilledConnections: under bounded concurrent load through the HTTP
// server, the database connections are killed (pg_terminate_backend). The
// requests caught by it fail with 503 (or 500 when the commit's outcome is
// unknown); every acknowledged event is stored exactly once; no request is
// partly stored; and the server recovers.
func TestKilledConnections(t *testing.T) { storetest.KilledConnections(t, all, "lab7") }

// TestAtomicRequest: a request that fails part way stores nothing.
func TestAtomicRequest(t *testing.T) { storetest.AtomicRequest(t, all, "lab7") }

// TestIdempotencyKeys: a retry with the same key and body is stored once and
// answered as the first was, one with another body is refused, and requests
// racing with one key, or with several in different orders, store each once.
func TestIdempotencyKeys(t *testing.T) { storetest.IdempotencyKeys(t, all, "lab7") }

// TestCloseDrains: Close returns only once every request queued before it is
// written, and every Insert returns. A store whose Close returns early would
// let the server exit with acknowledged events still unwritten.
func TestCloseDrains(t *testing.T) { storetest.CloseDrains(t, all, "lab7") }
