// Package pgtest gives tests a real Postgres from package postgres: one
// database per test binary, started on first use and removed by Main.
//
// It never skips: a test that needs a database and cannot get one fails, with
// the message that names every way to get one. A database test that skipped
// would pass in CI while testing nothing.
package pgtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server/postgres"
)

var shared struct {
	once sync.Once
	db   *postgres.Database
	err  error
}

// DB returns the test binary's database, provisioning it on first use. It is
// not durable (fsync off): tests check correctness, not speed. Callers must
// not Close it; use Main in TestMain.
func DB(tb testing.TB) *postgres.Database {
	tb.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.db, shared.err = postgres.Provision(ctx, postgres.Options{
			Durability:       postgres.Fast,
			CloseOnInterrupt: true,
			MaxConns:         40,
		})
	})
	if shared.err != nil {
		tb.Fatalf("this test needs Postgres: %v", shared.err)
	}
	return shared.db
}

// Truncate empties the events and requests tables, so a test sees only its
// own rows.
func Truncate(tb testing.TB, db *postgres.Database) {
	tb.Helper()
	if _, err := db.Pool.Exec(context.Background(), "TRUNCATE events, requests"); err != nil {
		tb.Fatalf("truncate events: %v", err)
	}
}

// Main runs the tests, then removes the database if one was started. Call it
// from TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if shared.db != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = shared.db.Close(ctx)
		cancel()
	}
	os.Exit(code)
}
