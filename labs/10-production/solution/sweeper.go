package solution

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune a Sweeper; the zero value is the default.
type Options struct {
	// Batch is the most keys one statement deletes; DefaultBatch.
	Batch int
}

// DefaultBatch is Options.Batch's default: a few milliseconds of the
// database's work per statement on the lab's machine.
const DefaultBatch = 1000

// Sweeper deletes expired Idempotency-Keys in bounded batches.
type Sweeper struct {
	pool  *pgxpool.Pool
	batch int
}

// New returns a Sweeper that deletes from pool's requests table.
func New(pool *pgxpool.Pool, o Options) *Sweeper {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	return &Sweeper{pool: pool, batch: o.Batch}
}

// Sweep deletes every key stored before cutoff, at most Options.Batch per
// statement, each statement its own transaction, oldest first, resting after
// each nine times as long as it took. Ended by ctx, it returns what it deleted so far.
//
// A batch is a range of created_at, read off the created_at index: its
// upper edge is the Batch-th oldest key's time (an index-only scan), and
// the DELETE takes everything from the last batch's edge to it, so a batch
// is Batch keys, a few more if several share the edge's instant. Each
// batch starts where the last one ended (a keyset): "the oldest Batch keys
// before the cutoff", asked afresh each time, would walk the index past
// every key the earlier batches deleted, which stay in it, dead, until
// vacuum. And not "DELETE ... USING batch" or "WHERE key IN (SELECT ...
// LIMIT n)": for those the planner hashes the batch and reads the whole
// table to join it, a million rows per batch (EXPLAIN ANALYZE on the lab's
// machine: 262 ms a batch, against 30 to 50 ms for this one).
func (s *Sweeper) Sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	from := time.Time{} // before every key
	for {
		start := time.Now()
		var n int64
		var last *time.Time
		err := s.pool.QueryRow(ctx, `WITH edge AS (
				SELECT coalesce((
					SELECT created_at FROM requests WHERE created_at > $1 AND created_at < $2
					ORDER BY created_at OFFSET $3 - 1 LIMIT 1), $2) AS upto),
			gone AS (
				DELETE FROM requests
				WHERE created_at > $1 AND created_at < $2 AND created_at <= (SELECT upto FROM edge)
				RETURNING created_at)
			SELECT count(*), max(created_at) FROM gone`, from, cutoff, s.batch).Scan(&n, &last)
		if err != nil {
			return total, fmt.Errorf("forget old idempotency keys: %w", err)
		}
		total += n
		if n < int64(s.batch) || last == nil {
			return total, nil
		}
		from = *last // every key stored at that instant went with it
		// Rest nine times as long as the batch took: the sweep then has at
		// most a tenth of one core, whatever the backlog, which fits in
		// the headroom a server keeps (lab 10's README measures it).
		t := time.NewTimer(9 * time.Since(start))
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
	}
}
