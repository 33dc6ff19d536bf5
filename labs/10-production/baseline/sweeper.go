package baseline

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Sweeper deletes expired Idempotency-Keys with one statement.
type Sweeper struct {
	pool *pgxpool.Pool
}

// New returns a Sweeper that deletes from pool's requests table.
func New(pool *pgxpool.Pool) *Sweeper { return &Sweeper{pool: pool} }

// Sweep deletes every key stored before cutoff, in one statement.
func (s *Sweeper) Sweep(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM requests WHERE created_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("forget old idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}
