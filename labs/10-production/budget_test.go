package production_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// countDeletes has Postgres itself record how many rows each statement
// deletes from requests, however the statement is phrased (a DELETE, a
// CTE, a function): a statement-level trigger with the deleted rows as its
// transition table. It returns what was recorded, in order.
func countDeletes(t *testing.T, pool *pgxpool.Pool) func() []int64 {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS lab10_deletes (id bigserial, n bigint)`,
		`TRUNCATE lab10_deletes`,
		`CREATE OR REPLACE FUNCTION lab10_count() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN INSERT INTO lab10_deletes (n) SELECT count(*) FROM gone; RETURN NULL; END $$`,
		`CREATE OR REPLACE TRIGGER lab10_count AFTER DELETE ON requests
			REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION lab10_count()`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = pool.Exec(ctx, `DROP TRIGGER IF EXISTS lab10_count ON requests`) })
	return func() []int64 {
		rows, err := pool.Query(ctx, `SELECT n FROM lab10_deletes WHERE n > 0 ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
}

// TestStatementBudget: the most keys one statement deletes, sweeping a
// backlog of 100,000 day-old keys, as Postgres counts them (countDeletes). One statement is one transaction: while
// it runs, a Postgres backend spends a core and the write-ahead log on it,
// and the requests' commits wait behind it. The count is the statement's
// size, which is what makes it last; its duration is what lab 10 measures.
func TestStatementBudget(t *testing.T) {
	const backlog = 100_000
	b := labtest.Budget{
		Lab:   10,
		Count: fmt.Sprintf("keys the largest DELETE removes (a backlog of %d day-old keys)", backlog),
		Max:   20_000,
		Why:   "one statement that deletes the whole backlog holds a database core, and the log every commit waits for, for as long as the backlog takes.",
		Look:  "make lab-10's flight-recorder snapshot: the sweep goroutine blocked in one pgx Exec for the whole spike (README, section 4).",
		Read:  "labs/10-production/README.md, hints 1 and 2.",
	}
	db := pgtest.DB(t)
	labtest.Judge(t, b, all, func(t *testing.T, impl labtest.Impl[newSweeper]) labtest.Count {
		pgtest.Truncate(t, db)
		seed(t, db.Pool, "old", backlog, 25*time.Hour)
		deleted := countDeletes(t, db.Pool)
		n, err := impl.Of(db.Pool).Sweep(context.Background(), time.Now().Add(-server.KeyRetention))
		if err != nil || n != backlog {
			t.Fatalf("Sweep = %d, %v; want all %d keys forgotten", n, err, backlog)
		}
		stmts := deleted()
		counts := make([]string, 0, 4)
		for i, r := range stmts {
			if i == 3 {
				counts = append(counts, "...")
				break
			}
			counts = append(counts, fmt.Sprint(r))
		}
		return labtest.Count{Value: float64(slices.Max(append(stmts, 0))), Detail: fmt.Sprintf("%d statements: %s", len(stmts), strings.Join(counts, ", "))}
	})
}
