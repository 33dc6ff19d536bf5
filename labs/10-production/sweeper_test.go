// The correctness tests of lab 10-production, against a real Postgres (the
// testcontainer in CI). They judge every implementation of the key sweeper
// (or those named by FLAMELAB_IMPL, as make check-10 does): the keys past
// the cutoff are forgotten, every other key is kept, and a sweep ended by
// its context stops. budget_test.go counts the rows each statement
// deletes; bench_test.go times a sweep.
package production_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/10-production/baseline"
	"github.com/flamelab/flamelab/labs/10-production/exercise"
	"github.com/flamelab/flamelab/labs/10-production/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type newSweeper = func(*pgxpool.Pool) server.Sweeper

var all = map[labs.Impl]newSweeper{
	labs.Baseline: func(p *pgxpool.Pool) server.Sweeper { return baseline.New(p) },
	labs.Exercise: func(p *pgxpool.Pool) server.Sweeper { return exercise.New(p) },
	labs.Solution: func(p *pgxpool.Pool) server.Sweeper { return solution.New(p, solution.Options{}) },
}

// seed stores n keys named prefix-1..n, the first stored age ago and the
// others over the hour after it, as a live service stores them.
func seed(t testing.TB, pool *pgxpool.Pool, prefix string, n int, age time.Duration) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `INSERT INTO requests (idempotency_key, request_id, body_sha256, accepted, created_at)
		SELECT $1 || '-' || g, gen_random_uuid(), '\x00'::bytea, 1, now() - $3::interval + (g - 1) * interval '1 hour' / $2::int
		FROM generate_series(1, $2::int) g`, prefix, n, age)
	if err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, pool *pgxpool.Pool, where string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM requests WHERE "+where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSweepForgetsOnlyExpired: every key stored before the cutoff is
// forgotten (more than one batch of them, more than a batch stored at one
// instant, and one a minute past the cutoff), every
// key after it kept (one a minute short of it, and recent ones), and the
// count returned is the count deleted.
func TestSweepForgetsOnlyExpired(t *testing.T) {
	db := pgtest.DB(t)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pgtest.Truncate(t, db)
			const old, burst = 2*solution.DefaultBatch + 345, solution.DefaultBatch + 10
			seed(t, db.Pool, "old", old, 25*time.Hour)
			seed(t, db.Pool, "just-old", 1, server.KeyRetention+time.Minute)
			// A burst: more than a batch of keys stored at one instant.
			if _, err := db.Pool.Exec(context.Background(), `INSERT INTO requests (idempotency_key, request_id, body_sha256, accepted, created_at)
				SELECT 'burst-' || g, gen_random_uuid(), '\x00'::bytea, 1, now() - interval '30 hours' FROM generate_series(1, $1::int) g`, burst); err != nil {
				t.Fatal(err)
			}
			seed(t, db.Pool, "just-new", 1, server.KeyRetention-time.Minute)
			seed(t, db.Pool, "new", 500, time.Hour)
			n, err := impl.Of(db.Pool).Sweep(context.Background(), time.Now().Add(-server.KeyRetention))
			if err != nil {
				t.Fatal(err)
			}
			if n != old+1+burst {
				t.Errorf("Sweep returned %d; want %d (the keys past the cutoff)", n, old+1+burst)
			}
			if left := count(t, db.Pool, "idempotency_key LIKE 'old-%' OR idempotency_key LIKE 'just-old-%' OR idempotency_key LIKE 'burst-%'"); left != 0 {
				t.Errorf("%d expired keys left; want none", left)
			}
			if kept := count(t, db.Pool, "idempotency_key LIKE 'new-%' OR idempotency_key LIKE 'just-new-%'"); kept != 501 {
				t.Errorf("%d unexpired keys kept; want all 501", kept)
			}
		})
	}
}

// TestSweepNothingToDo: a table with no expired key is left alone.
func TestSweepNothingToDo(t *testing.T) {
	db := pgtest.DB(t)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pgtest.Truncate(t, db)
			seed(t, db.Pool, "new", 10, time.Hour)
			n, err := impl.Of(db.Pool).Sweep(context.Background(), time.Now().Add(-server.KeyRetention))
			if err != nil || n != 0 || count(t, db.Pool, "true") != 10 {
				t.Errorf("Sweep = %d, %v with nothing expired; want 0, nil and the 10 keys kept", n, err)
			}
		})
	}
}

// TestSweepEndsWithContext: a sweep whose context has ended returns its
// error, and what it did delete is really gone (no half-counted batch).
func TestSweepEndsWithContext(t *testing.T) {
	db := pgtest.DB(t)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pgtest.Truncate(t, db)
			seed(t, db.Pool, "old", 3*solution.DefaultBatch, 25*time.Hour)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			n, err := impl.Of(db.Pool).Sweep(ctx, time.Now().Add(-server.KeyRetention))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Sweep with an ended context: err %v; want context.Canceled", err)
			}
			if left := count(t, db.Pool, "true"); left != 3*solution.DefaultBatch-int(n) {
				t.Errorf("Sweep said %d deleted, but %d of %d keys are left", n, left, 3*solution.DefaultBatch)
			}
		})
	}
}
