package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"net/http"

	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestGracefulShutdown runs the real binary, sends SIGTERM in the middle of
// bounded concurrent load, and checks that it exits 0 and that every
// acknowledged event is in the database and the audit trail exactly once:
// with the baseline stages, and with the solutions, whose batch writers must
// drain their queues on the way out.
func TestGracefulShutdown(t *testing.T) {
	bin := build(t)
	for _, stages := range []string{"all=baseline", "all=solution"} {
		t.Run(stages, func(t *testing.T) { gracefulShutdown(t, bin, stages) })
	}
}

func gracefulShutdown(t *testing.T, bin, stages string) {
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	audit := filepath.Join(t.TempDir(), "audit.log")
	p := start(t, bin, db.URL, "-audit-file", audit, "-stages", stages)
	cmd, stderr, base := p.cmd, p.stderr, p.public

	// Load: 8 clients, at most 100 requests each, 10 lines per request;
	// each stops at its first failure (the server has stopped listening).
	const clients, maxRequests, perRequest = 8, 100, 10
	client := &http.Client{Timeout: 30 * time.Second}
	a := newAcks(40)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range maxRequests {
				var b strings.Builder
				for l := range perRequest {
					fmt.Fprintf(&b, "ts=2026-11-25T07:39:%02dZ user=%d path=/p/%d status=200 latency_ms=%d bytes=%d\n", l, c, i, l, i)
				}
				resp, err := client.Post(base+"/events", "text/plain", strings.NewReader(b.String()))
				if err != nil || !a.add(resp) {
					return
				}
			}
		})
	}
	select {
	case <-a.enough:
	case <-time.After(60 * time.Second):
		t.Fatal("fewer than 40 requests acknowledged in 60s")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	acked := a.list()
	if err := p.wait(t, 90*time.Second); err != nil {
		t.Fatalf("server exited with %v after SIGTERM, want 0; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "stopped cleanly") {
		t.Errorf("no clean stop reported; stderr:\n%s", stderr.String())
	}
	t.Logf("%d requests acknowledged before and during shutdown", len(acked))

	// Every acknowledged event is stored exactly once.
	for _, id := range acked {
		var n, distinct int
		err := db.Pool.QueryRow(context.Background(),
			"SELECT count(*), count(DISTINCT line) FROM events WHERE request_id = $1", id).Scan(&n, &distinct)
		if err != nil {
			t.Fatal(err)
		}
		if n != perRequest || distinct != perRequest {
			t.Errorf("request %s: %d rows, %d distinct lines; want %d of each", id, n, distinct, perRequest)
		}
	}
	// And its audit record is in the trail exactly once.
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("audit line is not JSON: %q", l)
		}
		seen[rec.RequestID]++
	}
	for _, id := range acked {
		if seen[id] != 1 {
			t.Errorf("request %s is in the audit trail %d times, want 1", id, seen[id])
		}
	}
}
