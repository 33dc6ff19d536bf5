package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestClaimKeysInOrder: ClaimKeys claims its keys in sorted order whatever
// the order of its requests, so transactions in flight at once (lab 08's
// pipelined batches) cannot deadlock on them. One transaction holds key b;
// a second claims b and a, in that order, and must wait for b; a third
// then claims a with a lock timeout. Claimed in sorted order, a is already
// the second's, and the third waits and times out; claimed in arrival
// order, the second would be waiting for b holding nothing, and the third
// would take a at once: the half of a deadlock.
func TestClaimKeysInOrder(t *testing.T) {
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	ctx := context.Background()
	req := func(id int, key string) server.Request {
		return server.Request{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", id), Key: key, Digest: [32]byte{1}, Events: make([]server.Event, 1)}
	}
	claim := func(reqs ...server.Request) (pgx.Tx, error) {
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = postgres.ClaimKeys(ctx, tx, reqs)
		return tx, err
	}
	first, err := claim(req(1, "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	second := make(chan error, 1)
	go func() {
		tx, err := claim(req(2, "b"), req(3, "a"))
		if err == nil {
			err = tx.Rollback(ctx)
		}
		second <- err
	}()
	// Wait until the second is waiting for b (a guard, not a timing: it
	// waits for as long as the first holds b).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction never waited for the first's key b")
		}
	}
	third, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Rollback(ctx)
	if _, err := third.Exec(ctx, "SET LOCAL lock_timeout = '100ms'"); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.ClaimKeys(ctx, third, []server.Request{req(4, "a")})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
		t.Errorf("a third transaction claimed a while the second waited for b: %v; the second must have claimed a first (keys in sorted order), or two batches claiming {a, b} and {b, a} can deadlock", err)
	}
	third.Rollback(ctx)
	first.Rollback(ctx)
	if err := <-second; err != nil {
		t.Errorf("the second transaction, once b was free: %v", err)
	}
}
