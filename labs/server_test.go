// The assembled server, all stages at baseline, against a real Postgres: the
// promises of the API (README's table) hold for the server make serve runs.
// package server tests its HTTP layer alone, over fakes of the stages.
package labs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	stats "github.com/flamelab/flamelab/labs/03-locks/baseline"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testServer is the all-baseline server on a loopback httptest server, with
// an empty events table.
type testServer struct {
	*httptest.Server
	db *postgres.Database
}

func newTestServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	stages, err := labs.Build(labs.Env{Pool: db.Pool, AuditPath: filepath.Join(t.TempDir(), "audit.log")}, labs.Choice{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { labs.Close(stages) })
	srv, err := server.New(stages, db.Pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv) // listens on 127.0.0.1
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, db: db}
}

// line returns a valid access-log line for user u with a distinct timestamp.
func line(u, i int) string {
	return fmt.Sprintf("ts=2026-11-25T07:%02d:%02dZ user=%d path=/users/%d/cart status=%d latency_ms=%d bytes=%d",
		i/60%60, i%60, u, u, 200+i%3*100, i%50, 100*i)
}

func body(u, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(line(u, i) + "\n")
	}
	return b.String()
}

type response struct {
	status int
	header http.Header
	json   map[string]any
}

func (ts *testServer) do(t *testing.T, method, path, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header}
	if method != http.MethodHead {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	return r
}

func (ts *testServer) count(t *testing.T, where string, args ...any) int {
	t.Helper()
	var n int
	if err := ts.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM events "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostEvents(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	r := ts.do(t, "POST", "/events", body(7, 5))
	if r.status != 200 || r.json["accepted"] != 5.0 {
		t.Fatalf("got %d %v, want 200 with accepted=5", r.status, r.json)
	}
	id, _ := r.json["request_id"].(string)
	if n := ts.count(t, "WHERE request_id = $1 AND user_id = 7", id); n != 5 {
		t.Fatalf("%d rows stored for the request, want 5", n)
	}
	// Line endings: CRLF, no final newline, extra spaces are all fine.
	r = ts.do(t, "POST", "/events", "  "+line(8, 1)+"\r\n"+strings.ReplaceAll(line(8, 2), " ", "   \t"))
	if r.status != 200 || r.json["accepted"] != 2.0 {
		t.Fatalf("CRLF and spaces: got %d %v, want 200 with accepted=2", r.status, r.json)
	}
}

func TestBadLineStoresNothing(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	lines := []string{line(9, 1), line(9, 2), "ts=2026-11-25T07:39:56Z user=9 path=/x status=abc latency_ms=1 bytes=1", line(9, 4)}
	r := ts.do(t, "POST", "/events", strings.Join(lines, "\n"))
	msg, _ := r.json["error"].(string)
	if r.status != 400 || r.json["line"] != 3.0 || !strings.Contains(msg, "line 3") || !strings.Contains(msg, "status") {
		t.Fatalf("got %d %v, want 400 naming line 3 and the status field", r.status, r.json)
	}
	if n := ts.count(t, ""); n != 0 {
		t.Fatalf("%d rows stored from a rejected request, want 0", n)
	}
}

func TestErrors(t *testing.T) {
	ts := newTestServer(t, server.Config{MaxBodyBytes: 1024})
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the error message
		allow                    string
	}{
		{"empty body", "POST", "/events", "", 400, "empty body", ""},
		{"only a newline", "POST", "/events", "\n", 400, "line 1: empty line", ""},
		{"blank line inside", "POST", "/events", line(1, 1) + "\n\n" + line(1, 2), 400, "line 2: empty line", ""},
		{"over the limit", "POST", "/events", body(1, 20), 413, "over the limit of 1024 bytes", ""},
		{"GET /events", "GET", "/events", "", 405, "use POST", "POST"},
		{"POST /stats", "POST", "/stats", "", 405, "use GET", "GET, HEAD"},
		{"DELETE /users/1/events", "DELETE", "/users/1/events", "", 405, "not allowed", "GET, HEAD"},
		{"PUT /healthz", "PUT", "/healthz", "", 405, "not allowed", "GET, HEAD"},
		{"unknown path", "GET", "/nope", "", 404, "no such endpoint /nope", ""},
		{"pprof is not public", "GET", "/debug/pprof/", "", 404, "no such endpoint", ""},
		{"bad user id", "GET", "/users/abc/events", "", 400, `user id "abc"`, ""},
		{"negative user id", "GET", "/users/-1/events", "", 400, "non-negative", ""},
		{"limit 0", "GET", "/users/1/events?limit=0", "", 400, "from 1 to 1000", ""},
		{"limit too big", "GET", "/users/1/events?limit=1001", "", 400, "from 1 to 1000", ""},
		{"limit not a number", "GET", "/users/1/events?limit=ten", "", 400, "from 1 to 1000", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(t, c.method, c.path, c.body)
			msg, _ := r.json["error"].(string)
			if r.status != c.status || !strings.Contains(msg, c.want) {
				t.Errorf("got %d %q, want %d with %q", r.status, msg, c.status, c.want)
			}
			if c.allow != "" && r.header.Get("Allow") != c.allow {
				t.Errorf("Allow = %q, want %q", r.header.Get("Allow"), c.allow)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
		})
	}
	// A body over the limit without Content-Length (chunked) is cut off by
	// the reader rather than refused up front: also 413.
	req, _ := http.NewRequest("POST", ts.URL+"/events", io.MultiReader(strings.NewReader(body(1, 20))))
	req.ContentLength = -1
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked body over the limit: %d, want 413", resp.StatusCode)
	}
	if n := ts.count(t, ""); n != 0 {
		t.Errorf("%d rows stored by failed requests, want 0", n)
	}
}

func TestStats(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.do(t, "POST", "/events", "ts=2026-11-25T07:39:56Z user=1 path=/users/1/cart status=200 latency_ms=10 bytes=100\n"+
		"ts=2026-11-25T07:39:57Z user=2 path=/users/2/cart status=503 latency_ms=1000 bytes=5\n"+
		"ts=2026-11-25T07:39:58Z user=2 path=/home status=200 latency_ms=0 bytes=0\n")
	resp, err := ts.Client().Get(ts.URL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got server.StatsReport
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Events != 3 || got.Bytes != 105 ||
		got.ByRoute["/users/:id/cart"] != 2 || got.ByRoute["/home"] != 1 ||
		got.ByStatusClass["2xx"] != 2 || got.ByStatusClass["5xx"] != 1 ||
		got.Latency.Count != 3 || got.Latency.Max != 1000 ||
		len(got.TopUsers) != 2 || got.TopUsers[0] != (server.UserCount{User: 2, Events: 2}) {
		t.Fatalf("stats = %+v", got)
	}
}

func TestUserEvents(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.do(t, "POST", "/events", body(5, 60))
	ts.do(t, "POST", "/events", body(6, 3))

	r := ts.do(t, "GET", "/users/5/events", "")
	events, _ := r.json["events"].([]any)
	if r.status != 200 || len(events) != server.DefaultLimit {
		t.Fatalf("default limit: %d with %d events, want 200 with %d", r.status, len(events), server.DefaultLimit)
	}
	r = ts.do(t, "GET", "/users/5/events?limit=3", "")
	events, _ = r.json["events"].([]any)
	if len(events) != 3 {
		t.Fatalf("limit=3: %d events", len(events))
	}
	var prev string
	for i, e := range events {
		ev := e.(map[string]any)
		if ev["user"] != 5.0 {
			t.Errorf("event %d belongs to user %v", i, ev["user"])
		}
		ts, _ := ev["ts"].(string)
		if prev != "" && ts > prev {
			t.Errorf("not newest first: %s after %s", ts, prev)
		}
		prev = ts
	}
	if first := events[0].(map[string]any); first["ts"] != "2026-11-25T07:00:59Z" {
		t.Errorf("newest event has ts %v, want 2026-11-25T07:00:59Z", first["ts"])
	}
	r = ts.do(t, "GET", "/users/999/events", "")
	if events, ok := r.json["events"].([]any); r.status != 200 || !ok || len(events) != 0 {
		t.Errorf("user without events: %d %v, want 200 with an empty list", r.status, r.json)
	}
}

// TestDurability: under bounded concurrent load, every event of every 2xx
// answer is in the table exactly once.
func TestDurability(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	const clients, requests, lines = 16, 15, 20

	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range requests {
				resp, err := ts.Client().Post(ts.URL+"/events", "text/plain", strings.NewReader(body(c*1000+i, lines)))
				if err != nil {
					t.Error(err)
					return
				}
				var out struct {
					RequestID string `json:"request_id"`
					Accepted  int    `json:"accepted"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || out.Accepted != lines {
					t.Errorf("status %d, %+v, %v", resp.StatusCode, out, err)
					continue
				}
				mu.Lock()
				acked[out.RequestID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(acked) != clients*requests {
		t.Fatalf("%d requests acknowledged, want %d", len(acked), clients*requests)
	}
	rows, err := ts.db.Pool.Query(context.Background(),
		"SELECT request_id::text, line, count(*) FROM events GROUP BY 1, 2")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	perRequest := map[string]int{}
	for rows.Next() {
		var id string
		var line, n int
		if err := rows.Scan(&id, &line, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("request %s line %d stored %d times", id, line, n)
		}
		perRequest[id]++
	}
	for id := range acked {
		if perRequest[id] != lines {
			t.Errorf("request %s: %d of %d lines stored", id, perRequest[id], lines)
		}
	}
}

// TestStatsBounded: the statistics the server ships keep at most
// server.MaxRoutes routes and server.MaxUsers users, and say what they fold.
func TestStatsBounded(t *testing.T) {
	s := stats.New()
	evs := make([]server.Event, 0, server.MaxUsers+10)
	for i := range server.MaxUsers + 10 {
		evs = append(evs, server.Event{UserID: int64(i), Route: fmt.Sprintf("/r%d", i%(server.MaxRoutes+5)), Status: 200})
	}
	s.Observe(evs)
	var b strings.Builder
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got server.StatsReport
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.UntrackedUserEvents != 10 || len(got.ByRoute) != server.MaxRoutes+1 || got.ByRoute[server.OtherRoute] == 0 || got.Events != int64(len(evs)) {
		t.Errorf("untracked user events %d (want 10), %d routes (want %d, the last %q), %d events", got.UntrackedUserEvents, len(got.ByRoute), server.MaxRoutes+1, server.OtherRoute, got.Events)
	}
}
