// Package storetest is the event store's correctness suite, against a real
// Postgres (the testcontainer in CI), shared by the labs whose stage is the
// store or a part of it: lab 07-batching judges its stores with it, and lab
// 08-pipeline the same suite with lab 07's batching store running each of
// its pipelines. Every function judges every implementation in all (or those
// named by FLAMELAB_IMPL, as make check-N does): the same rows and reads as
// the baseline, every request all or nothing, idempotency keys honoured when
// requests race, Close draining, and nothing acknowledged lost or doubled
// when the database connections die.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// New opens one implementation of the store on a pool.
type New = func(*pgxpool.Pool) server.Store

// Impls are the implementations a lab judges, by name.
type Impls = map[labs.Impl]New

// Setup empties the table and returns a pool whose round trips are counted.
func Setup(t testing.TB, appName string) (*pgxpool.Pool, *postgres.RoundTrips) {
	t.Helper()
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	trips := &postgres.RoundTrips{}
	url := db.URL + "&application_name=" + appName
	pool, err := postgres.NewPool(context.Background(), url, trips)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, trips
}

// Open opens a store on pool, closed when the test ends.
func Open(t testing.TB, newStore New, pool *pgxpool.Pool) server.Store {
	t.Helper()
	s := newStore(pool)
	t.Cleanup(func() { s.Close() })
	return s
}

// Events returns request i's events: what the load generator sends, as a
// correct parser reads it.
func Events(i, n int) []server.Event { return load.Events(7, i, n) }

// RequestID is request i's ID: a UUID, as the server makes them.
func RequestID(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

// Insert stores one request without an idempotency key and checks its
// receipt.
func Insert(s server.Store, id string, evs []server.Event) error {
	r, err := s.Insert(context.Background(), server.Request{ID: id, Events: evs})
	if err == nil && (r.RequestID != id || r.Accepted != len(evs) || r.Replayed) {
		err = fmt.Errorf("receipt %+v for a new request %s of %d events", r, id, len(evs))
	}
	return err
}

// Stored returns every row, without the generated id, in a fixed order.
func Stored(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		`SELECT request_id::text, line, ts, user_id, path, status, latency_ms, bytes FROM events ORDER BY request_id, line`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var e server.StoredEvent
		err := r.Scan(&e.RequestID, &e.Line, &e.Time, &e.UserID, &e.Path, &e.Status, &e.LatencyMS, &e.Bytes)
		return fmt.Sprintf("%s/%d %s %d %s %d %d %d", e.RequestID, e.Line, e.Time.UTC().Format(time.RFC3339Nano), e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// normal drops what legitimately differs between runs: the generated id and
// the time zone the driver reports.
func normal(evs []server.StoredEvent) []server.StoredEvent {
	out := make([]server.StoredEvent, len(evs))
	for i, e := range evs {
		e.ID, e.Time = 0, e.Time.UTC()
		out[i] = e
	}
	return out
}

// SameResults: every implementation stores the same rows and reads back
// the same events as the baseline.
func SameResults(t *testing.T, all Impls, app string) {
	type result struct {
		rows  []string
		reads map[string][]server.StoredEvent
	}
	run := func(newStore New) result {
		pool, _ := Setup(t, app+"-same")
		s := Open(t, newStore, pool)
		ctx := context.Background()
		for i := range 6 {
			if err := Insert(s, RequestID(i), Events(i, 40)); err != nil {
				t.Fatal(err)
			}
		}
		// One user with many events, so limits bite.
		many := Events(100, 120)
		for i := range many {
			many[i].UserID = 424242
		}
		if err := Insert(s, RequestID(100), many); err != nil {
			t.Fatal(err)
		}
		res := result{rows: Stored(t, pool), reads: map[string][]server.StoredEvent{}}
		for _, q := range []struct {
			user  int64
			limit int
		}{{424242, 1}, {424242, 50}, {424242, 1000}, {many[0].UserID + 1, 50}, {Events(0, 1)[0].UserID, 1000}} {
			got, err := s.Recent(ctx, q.user, q.limit)
			if err != nil {
				t.Fatal(err)
			}
			res.reads[fmt.Sprintf("user %d limit %d", q.user, q.limit)] = normal(got)
		}
		return res
	}
	want := run(all[labs.Baseline])
	if len(want.rows) != 6*40+120 || len(want.reads["user 424242 limit 1000"]) != 120 {
		t.Fatalf("baseline stored %d rows and read %d; the fixture is wrong", len(want.rows), len(want.reads["user 424242 limit 1000"]))
	}
	for _, impl := range labtest.Under(t, all) {
		if impl.Name == labs.Baseline {
			continue
		}
		t.Run(string(impl.Name), func(t *testing.T) {
			got := run(impl.Of)
			if !reflect.DeepEqual(got.rows, want.rows) {
				t.Errorf("stored rows differ from the baseline's (%d vs %d rows)", len(got.rows), len(want.rows))
			}
			for q, w := range want.reads {
				if !reflect.DeepEqual(got.reads[q], w) {
					t.Errorf("Recent(%s) differs from the baseline's: %d vs %d events", q, len(got.reads[q]), len(w))
				}
			}
		})
	}
}

// KilledConnections: under bounded concurrent load through the HTTP
// server, the database connections are killed (pg_terminate_backend). The
// requests caught by it fail with 503 (or 500 when the commit's outcome is
// unknown); every acknowledged event is stored exactly once; no request is
// partly stored; and the server recovers.
func KilledConnections(t *testing.T, all Impls, app string) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			app := app + "-kill-" + string(impl.Name)
			pool, _ := Setup(t, app)
			// The all-baseline server with the store under test: built
			// here rather than by labs.Build, which links no exercise.
			stages, err := labs.Build(labs.Env{Pool: pool, AuditPath: filepath.Join(t.TempDir(), "audit.log")}, labs.Choice{})
			if err != nil {
				t.Fatal(err)
			}
			stages.Store = impl.Of(pool) // the baseline store it replaces holds nothing to close
			t.Cleanup(func() { labs.Close(stages) })
			srv, err := server.New(stages, pool, server.Config{})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()

			post := func(i int) (int, string) {
				resp, err := ts.Client().Post(ts.URL+"/events", "text/plain", strings.NewReader(string(load.Body(70, i, 10))))
				if err != nil {
					t.Error(err)
					return 0, ""
				}
				defer resp.Body.Close()
				var out struct {
					RequestID string `json:"request_id"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				return resp.StatusCode, out.RequestID
			}

			const clients, each = 8, 30
			var mu sync.Mutex
			var acked []string
			statuses := map[int]int{}
			killed := make(chan struct{})
			var once sync.Once
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					for i := range each {
						code, id := post(c*1000 + i)
						mu.Lock()
						statuses[code]++
						if code == 200 {
							acked = append(acked, id)
							if len(acked) == 40 {
								once.Do(func() { close(killed) })
							}
						}
						mu.Unlock()
					}
				})
			}
			<-killed
			var n int
			err = pgtest.DB(t).Pool.QueryRow(context.Background(),
				`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			t.Logf("%s: killed %d connections mid-load; statuses %v", impl.Name, n, statuses)
			if n == 0 {
				t.Fatal("no connection was killed: the test did not test anything")
			}
			for code := range statuses {
				if code != 200 && code != 503 && code != 500 {
					t.Errorf("status %d (%d times): a dead connection must give 503 (or 500: outcome unknown), nothing else", code, statuses[code])
				}
			}
			// Recovery: the pool reconnects.
			if code, _ := post(99999); code != 200 {
				t.Errorf("after the kill, a new request got %d, want 200", code)
			}

			var dups int
			if err := pool.QueryRow(context.Background(),
				`SELECT count(*) FROM (SELECT 1 FROM events GROUP BY request_id, line HAVING count(*) > 1) d`).Scan(&dups); err != nil {
				t.Fatal(err)
			}
			if dups != 0 {
				t.Errorf("%d events stored more than once", dups)
			}
			for _, id := range acked {
				var lines int
				if err := pool.QueryRow(context.Background(), `SELECT count(DISTINCT line) FROM events WHERE request_id = $1`, id).Scan(&lines); err != nil {
					t.Fatal(err)
				}
				if lines != 10 {
					t.Errorf("acknowledged request %s has %d of its 10 events stored", id, lines)
				}
			}
			var partial int
			if err := pool.QueryRow(context.Background(),
				`SELECT count(*) FROM (SELECT 1 FROM events GROUP BY request_id HAVING count(*) <> 10) p`).Scan(&partial); err != nil {
				t.Fatal(err)
			}
			if partial != 0 {
				t.Errorf("%d requests are partly stored: a request is all or nothing", partial)
			}
		})
	}
}

// WithBadRow returns n events whose k-th (1-based) Postgres refuses: a NUL
// byte in a text column. The parser never lets one through; here it stands
// for any failure part way through a request.
func WithBadRow(i, n, k int) []server.Event {
	evs := Events(i, n)
	evs[k-1].Path = "/a\x00b"
	return evs
}

// AtomicRequest: a request that fails part way stores nothing.
func AtomicRequest(t *testing.T, all Impls, app string) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pool, _ := Setup(t, app+"-atomic")
			s := Open(t, impl.Of, pool)
			if err := Insert(s, RequestID(1), WithBadRow(1, 10, 4)); err == nil {
				t.Fatal("Insert of an event Postgres refuses returned nil")
			}
			if n := len(Stored(t, pool)); n != 0 {
				t.Errorf("%d events of the failed request are stored: a request is all or nothing", n)
			}
		})
	}
}

// IdempotencyKeys: a retry with the same key and body is stored once and
// answered as the first was, one with another body is refused, requests
// racing with the same key store it once, and requests racing with several
// keys in different orders all succeed.
func IdempotencyKeys(t *testing.T, all Impls, app string) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pool, _ := Setup(t, app+"-keys")
			s := Open(t, impl.Of, pool)
			ctx := context.Background()
			evs := Events(1, 10)
			req := server.Request{ID: RequestID(1), Key: "key-1", Digest: [32]byte{1}, Events: evs}
			first, err := s.Insert(ctx, req)
			if err != nil || first != (server.Receipt{RequestID: RequestID(1), Accepted: 10}) {
				t.Fatalf("first: %+v, %v", first, err)
			}
			retry := req
			retry.ID = RequestID(2)
			again, err := s.Insert(ctx, retry)
			if err != nil || again != (server.Receipt{RequestID: RequestID(1), Accepted: 10, Replayed: true}) {
				t.Errorf("retry: %+v, %v; want the first receipt, replayed", again, err)
			}
			other := retry
			other.Digest = [32]byte{2}
			if _, err := s.Insert(ctx, other); !errors.Is(err, server.ErrKeyReused) {
				t.Errorf("same key, other body: %v, want ErrKeyReused", err)
			}
			if n := len(Stored(t, pool)); n != 10 {
				t.Errorf("%d events stored after a request, its retry and a reuse of its key; want 10", n)
			}

			// 16 clients send the same request with one key at once.
			const clients = 16
			var wg sync.WaitGroup
			receipts := make([]server.Receipt, clients)
			for c := range clients {
				wg.Go(func() {
					r := server.Request{ID: RequestID(100 + c), Key: "key-2", Digest: [32]byte{3}, Events: Events(2, 5)}
					var err error
					if receipts[c], err = s.Insert(ctx, r); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			replays := 0
			for _, r := range receipts {
				if r.RequestID != receipts[0].RequestID || r.Accepted != 5 {
					t.Errorf("racing retries got different receipts: %+v and %+v", receipts[0], r)
				}
				if r.Replayed {
					replays++
				}
			}
			if replays != clients-1 {
				t.Errorf("%d of %d racing requests were told they were replays, want %d", replays, clients, clients-1)
			}
			if n := len(Stored(t, pool)); n != 15 {
				t.Errorf("%d events stored, want 15: the racing request once", n)
			}

			// Requests with eight keys, in every order at once: a
			// store that writes several batches at once (lab 08) has
			// transactions in flight that claim the same keys, and
			// in different orders they would deadlock.
			const keys, each = 8, 8
			var failed atomic.Int64
			for c := range clients {
				wg.Go(func() {
					for i := range each {
						k := (c*3 + i*5) % keys
						r := server.Request{ID: RequestID(1000 + c*each + i), Key: fmt.Sprintf("key-order-%d", k), Digest: [32]byte{byte(k)}, Events: Events(3+k, 2)}
						if _, err := s.Insert(ctx, r); err != nil {
							failed.Add(1)
							t.Errorf("request %d with key %d: %v", c*each+i, k, err)
						}
					}
				})
			}
			wg.Wait()
			if n := len(Stored(t, pool)); failed.Load() == 0 && n != 15+keys*2 {
				t.Errorf("%d events stored, want %d: each of %d keys once", n, 15+keys*2, keys)
			}
		})
	}
}

// CloseDrains: Close returns only once every request queued before it is
// written, and every Insert returns. A store whose Close returns early would
// let the server exit with acknowledged events still unwritten.
func CloseDrains(t *testing.T, all Impls, app string) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			pool, _ := Setup(t, app+"-close")
			s := impl.Of(pool)
			const clients = 16
			var ok atomic.Int64
			started := make(chan struct{}, clients)
			done := make(chan struct{})
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					started <- struct{}{}
					if Insert(s, RequestID(c), Events(c, 50)) == nil {
						ok.Add(1)
					}
				})
			}
			go func() { wg.Wait(); close(done) }()
			for range clients {
				<-started
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			atClose := len(Stored(t, pool))
			select {
			case <-done:
			case <-time.After(30 * time.Second): // a guard against a hang
				t.Fatal("Inserts still waiting 30 s after Close returned: Close must answer every queued request")
			}
			after := len(Stored(t, pool))
			t.Logf("%s: %d of %d Inserts succeeded; %d events stored when Close returned, %d at the end", impl.Name, ok.Load(), clients, atClose, after)
			if after != atClose {
				t.Errorf("%d events were written after Close returned: Close must drain the queue first", after-atClose)
			}
			if after != int(ok.Load())*50 {
				t.Errorf("%d events stored for %d successful Inserts of 50", after, ok.Load())
			}
		})
	}
}

// HoldCopies holds up every COPY into the events table until release is
// called: a transaction of its own takes a SHARE lock on the table, which
// the ROW EXCLUSIVE lock a COPY needs must wait for. Lab 08's budget and
// the labs' wiring test count the batches a store then has in flight.
func HoldCopies(t testing.TB) (release func()) {
	t.Helper()
	ctx := context.Background()
	lock, err := pgtest.DB(t).Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "LOCK TABLE events IN SHARE MODE"); err != nil {
		lock.Rollback(ctx)
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Rollback(ctx) })
	return func() {
		if err := lock.Rollback(ctx); err != nil {
			t.Error(err)
		}
	}
}

// CopiesInFlight waits until want COPYs counted by trips are in flight, or
// two seconds pass (a guard, not a timing: with the COPYs held up, the
// count only grows until the store has started all it will), and returns
// how many are.
func CopiesInFlight(trips *postgres.RoundTrips, want int64) int64 {
	var n int64
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && n < want; time.Sleep(10 * time.Millisecond) {
		_, n = trips.Copies()
	}
	_, n = trips.Copies()
	return n
}
