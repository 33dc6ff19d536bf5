package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestForgetKeys: keys older than the retention are deleted, newer ones kept.
func TestForgetKeys(t *testing.T) {
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	ctx := context.Background()
	for key, age := range map[string]time.Duration{"old": 25 * time.Hour, "new": time.Hour} {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO requests VALUES ($1, gen_random_uuid(), '\x00', 1, now() - $2::interval)`, key, age); err != nil {
			t.Fatal(err)
		}
	}
	n, err := postgres.ForgetKeys(ctx, db.Pool, server.KeyRetention)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	rows, _ := db.Pool.Query(ctx, `SELECT idempotency_key FROM requests`)
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		left = append(left, k)
	}
	if n != 1 || len(left) != 1 || left[0] != "new" {
		t.Errorf("forgot %d keys, kept %v; want the old one forgotten, the new one kept", n, left)
	}
}
