package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestShutdownFrozenDatabase: with the database's processes stopped
// (SIGSTOP: its connections open, nothing answering) and requests waiting
// on it, SIGTERM makes the server exit 0 within -shutdown-timeout plus
// shutdownMargin, and every request it acknowledged before is stored. Before
// the fix, the server cut its connections on time and then waited in
// pgxpool's Close until the database came back (11 s of a 3 s timeout).
//
// The bound is generous (seconds over the promise) and the database stays
// frozen far longer than it, so only a shutdown that waits for the
// database fails: it guards a promise, it does not measure a speed.
func TestShutdownFrozenDatabase(t *testing.T) {
	bin := build(t)
	for _, stages := range []string{"all=baseline", "all=solution"} {
		t.Run(stages, func(t *testing.T) { shutdownFrozen(t, bin, stages) })
	}
}

func shutdownFrozen(t *testing.T, bin, stages string) {
	const drain = 2 * time.Second
	const slack = 5 * time.Second // for a loaded CI machine
	const frozenFor = 40 * time.Second

	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	p := start(t, bin, db.URL, "-stages", stages, "-audit-file", filepath.Join(t.TempDir(), "audit.log"),
		"-shutdown-timeout", drain.String(), "-db-timeout", "10s")

	a := newAcks(20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 60 * time.Second}
			for i := range 200 {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.public+"/events", bytes.NewReader(load.Body(uint64(c+1), i, 10)))
				resp, err := client.Do(req)
				if err != nil || !a.add(resp) {
					return
				}
			}
		})
	}
	select {
	case <-a.enough:
	case <-time.After(60 * time.Second):
		t.Fatalf("fewer than 20 requests acknowledged in 60 s; stderr:\n%s", p.stderr)
	}

	resume, err := db.Freeze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = resume()
		}
	}()
	time.Sleep(time.Second) // requests now wait on the stopped database
	before := len(a.list())

	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	var exitErr error
	select {
	case exitErr = <-exited:
	case <-time.After(frozenFor):
		_ = resume()
		resumed = true
		exitErr = <-exited
	}
	took := time.Since(sent)
	if !resumed {
		if err := resume(); err != nil {
			t.Fatal(err)
		}
		resumed = true
	}
	cancel()
	wg.Wait()

	bound := drain + shutdownMargin + slack
	t.Logf("%s: SIGTERM with the database stopped: exited after %s (%v); promise %s + %s; %d requests acknowledged before the freeze",
		stages, took.Round(10*time.Millisecond), exitErr, drain, shutdownMargin, before)
	if exitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want 0; stderr:\n%s", exitErr, p.stderr)
	}
	if took > bound {
		t.Errorf("shutdown took %s with the database stopped, over %s (-shutdown-timeout %s + %s margin + %s slack): it waited for the database; stderr:\n%s",
			took.Round(10*time.Millisecond), bound, drain, shutdownMargin, slack, p.stderr)
	}

	// What was acknowledged is stored, whole.
	for _, id := range a.list() {
		var n int
		if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM events WHERE request_id = $1", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 10 {
			t.Errorf("acknowledged request %s has %d rows, want 10", id, n)
		}
	}
}
