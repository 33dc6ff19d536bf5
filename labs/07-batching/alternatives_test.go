// The ways to store a request's events that the lesson compares, and a check
// that they store the same rows; bench_test.go measures them.
package batching_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/server"
)

const insertSQL = `INSERT INTO events (request_id, line, ts, user_id, path, status, latency_ms, bytes)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// writeMethods are the ways to store one request's events that the lesson
// compares; BenchmarkWriteMethods measures each with its round trips.
var writeMethods = []struct {
	name  string
	write func(ctx context.Context, pool *pgxpool.Pool, id string, evs []server.Event) error
}{
	{"autocommit-per-row", func(ctx context.Context, pool *pgxpool.Pool, id string, evs []server.Event) error {
		for i, e := range evs {
			if _, err := pool.Exec(ctx, insertSQL, id, i+1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes); err != nil {
				return err
			}
		}
		return nil
	}},
	{"tx-per-request", func(ctx context.Context, pool *pgxpool.Pool, id string, evs []server.Event) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for i, e := range evs {
				if _, err := tx.Exec(ctx, insertSQL, id, i+1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes); err != nil {
					return err
				}
			}
			return nil
		})
	}},
	{"sendbatch", func(ctx context.Context, pool *pgxpool.Pool, id string, evs []server.Event) error {
		// A batch is pipelined: one round trip, and one implicit
		// transaction, since its statements share one Sync.
		var b pgx.Batch
		for i, e := range evs {
			b.Queue(insertSQL, id, i+1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes)
		}
		return pool.SendBatch(ctx, &b).Close()
	}},
	{"copyfrom", func(ctx context.Context, pool *pgxpool.Pool, id string, evs []server.Event) error {
		_, err := pool.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"request_id", "line", "ts", "user_id", "path", "status", "latency_ms", "bytes"},
			pgx.CopyFromSlice(len(evs), func(i int) ([]any, error) {
				e := evs[i]
				return []any{id, i + 1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes}, nil
			}))
		return err
	}},
}

// TestWriteMethodsStoreTheSame keeps the benchmark honest: every method
// stores the same rows.
func TestWriteMethodsStoreTheSame(t *testing.T) {
	var want []string
	for _, m := range writeMethods {
		pool, _ := setup(t, "lab7-methods")
		if err := m.write(context.Background(), pool, requestID(1), events(1, 50)); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		got := stored(t, pool)
		if want == nil {
			want = got
		} else if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s stores different rows from %s", m.name, writeMethods[0].name)
		}
	}
}

// TestAutocommitIsNotAtomic: the wrong fix. Without a transaction around the
// request, a failure part way leaves its first rows stored, while the client
// is told the request failed: its retry stores them twice.
func TestAutocommitIsNotAtomic(t *testing.T) {
	pool, _ := setup(t, "lab7-autocommit")
	if err := writeMethods[0].write(context.Background(), pool, requestID(1), withBadRow(1, 10, 4)); err == nil {
		t.Fatal("autocommit-per-row stored an event Postgres refuses")
	}
	n := len(stored(t, pool))
	t.Logf("autocommit-per-row: the 4th of 10 events failed; %d events stayed stored", n)
	if n != 3 {
		t.Errorf("%d events stored; want 3, the rows before the failure: this test shows the hazard the transaction removes", n)
	}
}
