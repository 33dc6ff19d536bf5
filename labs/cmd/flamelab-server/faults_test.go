package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestCrashAndFaults runs the real binary under bounded concurrent load from
// clients that retry every request with its Idempotency-Key until it is
// acknowledged, and in the middle of it:
//
//   - kill -9, then a restart on the same database;
//   - every database connection of the server killed (pg_terminate_backend);
//   - a database that stops answering for longer than the server's
//     database timeout, two ways: its events table locked (queries wait,
//     the connection still answers a cancel), and its processes stopped
//     with SIGSTOP (nothing on any connection answers, as when a database
//     hangs).
//
// Afterwards every request is stored exactly once under the request id its
// answer gave, no request is partly stored, and no event is stored twice: for
// the baseline stages and for the solutions.
func TestCrashAndFaults(t *testing.T) {
	bin := build(t)
	for _, stages := range []string{"all=baseline", "all=solution"} {
		for _, fault := range []string{"kill -9", "terminate backends", "frozen database", "stopped database"} {
			t.Run(stages+"/"+fault, func(t *testing.T) { faultRun(t, bin, stages, fault) })
		}
	}
}

const (
	faultClients   = 8
	faultPerClient = 25
	faultLines     = 10
	faultApp       = "flamelab-faults"
)

// ack is one acknowledged request, as its client saw it.
type ack struct {
	key, requestID string
	tries          int
	replayed       bool
}

func faultRun(t *testing.T, bin, stages, fault string) {
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	url := db.URL + "&application_name=" + faultApp
	audit := filepath.Join(t.TempDir(), "audit.log")
	args := []string{"-audit-file", audit, "-stages", stages, "-db-timeout", "2s"}
	p := start(t, bin, url, args...)
	var base atomic.Value
	base.Store(p.public)

	var (
		mu       sync.Mutex
		acks     []ack
		statuses = map[string]int{} // what the clients saw before each acknowledgement
	)
	faultNow := make(chan struct{})
	var once sync.Once
	stop := time.Now().Add(3 * time.Minute) // a guard against a hang
	var wg sync.WaitGroup
	for c := range faultClients {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := range faultPerClient {
				a := ack{key: fmt.Sprintf("client-%d-request-%d", c, i)}
				body := load.Body(uint64(c+1), i, faultLines)
				for a.tries = 1; ; a.tries++ {
					if time.Now().After(stop) {
						t.Errorf("%s: not acknowledged after %d tries", a.key, a.tries)
						return
					}
					req, _ := http.NewRequest(http.MethodPost, base.Load().(string)+"/events", bytes.NewReader(body))
					req.Header.Set("Idempotency-Key", a.key)
					resp, err := client.Do(req)
					seen := "network error"
					if err == nil {
						var out struct {
							RequestID string `json:"request_id"`
							Error     string `json:"error"`
						}
						_ = json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							a.requestID, a.replayed = out.RequestID, resp.Header.Get("Idempotency-Replayed") == "true"
							break
						}
						if resp.StatusCode < 500 {
							t.Errorf("%s: %d %s: a retry with its key must never be refused", a.key, resp.StatusCode, out.Error)
							return
						}
						seen = fmt.Sprint(resp.StatusCode)
					}
					mu.Lock()
					statuses[seen]++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
				mu.Lock()
				acks = append(acks, a)
				if len(acks) == 40 {
					once.Do(func() { close(faultNow) })
				}
				mu.Unlock()
			}
		})
	}

	select {
	case <-faultNow:
	case <-time.After(2 * time.Minute):
		t.Fatalf("fewer than 40 requests acknowledged in 2 minutes; stderr:\n%s", p.stderr)
	}
	ctx := context.Background()
	switch fault {
	case "kill -9":
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_ = p.wait(t, 30*time.Second)
		p = start(t, bin, url, args...)
		base.Store(p.public)
	case "terminate backends":
		var n int
		if err := db.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, faultApp).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("the server had no connection to kill: the test tests nothing")
		}
		t.Logf("killed %d connections", n)
	case "frozen database":
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE events IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second) // over twice the server's 2 s database timeout
		_ = tx.Rollback(ctx)
	case "stopped database":
		resume, err := db.Freeze(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = resume() }) // SIGCONT twice is harmless
		time.Sleep(5 * time.Second)
		if err := resume(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()

	retried, replayed := 0, 0
	for _, a := range acks {
		if a.tries > 1 {
			retried++
		}
		if a.replayed {
			replayed++
		}
	}
	if retried == 0 {
		t.Errorf("no request needed a retry: the %s hit nothing, and the test tested nothing", fault)
	}

	// The invariants, from the database.
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := faultClients * faultPerClient
	events := count(`SELECT count(*) FROM events`)
	keys := count(`SELECT count(*) FROM requests`)
	stored := count(`SELECT count(DISTINCT request_id) FROM events`)
	partial := count(`SELECT count(*) FROM (SELECT 1 FROM events GROUP BY request_id HAVING count(*) <> $1) p`, faultLines)
	dupEvents := count(`SELECT count(*) FROM (SELECT 1 FROM events GROUP BY request_id, line HAVING count(*) > 1) d`)
	missing := 0
	for _, a := range acks {
		if count(`SELECT count(*) FROM requests r JOIN events e USING (request_id) WHERE r.idempotency_key = $1 AND r.request_id = $2`, a.key, a.requestID) != faultLines {
			missing++
		}
	}
	t.Logf("%s, %s: %d requests acknowledged (%d after a retry, %d answered as replays); seen before acknowledgement: %v; "+
		"stored: %d requests, %d events; missing %d, duplicated requests %d, duplicated events %d, partly stored %d",
		stages, fault, len(acks), retried, replayed, statuses, stored, events, missing, stored-want, dupEvents, partial)
	if len(acks) != want || keys != want || stored != want || events != want*faultLines {
		t.Errorf("want %d requests acknowledged, keyed and stored, %d events; got %d, %d, %d, %d", want, want*faultLines, len(acks), keys, stored, events)
	}
	if missing != 0 || partial != 0 || dupEvents != 0 {
		t.Errorf("missing %d, partly stored %d, duplicated events %d: want none", missing, partial, dupEvents)
	}

	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 60*time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want 0; stderr:\n%s", err, p.stderr)
	}

	// The audit trail holds every acknowledged request, and only stored
	// ones: a record is written after the commit, again on a replay.
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("audit line is not JSON: %q", l)
		}
		records[rec.RequestID]++
	}
	notStored := 0
	for id := range records {
		if count(`SELECT count(*) FROM events WHERE request_id = $1`, id) == 0 {
			notStored++
		}
	}
	unrecorded := 0
	for _, a := range acks {
		if records[a.requestID] == 0 {
			unrecorded++
		}
	}
	t.Logf("audit trail: %d records of %d requests; %d of requests not stored, %d acknowledged requests without a record", len(strings.Split(strings.TrimSpace(string(data)), "\n")), len(records), notStored, unrecorded)
	if notStored != 0 || unrecorded != 0 {
		t.Errorf("the audit trail says what did not happen: %d records of requests not stored, %d acknowledged requests unrecorded", notStored, unrecorded)
	}
}
