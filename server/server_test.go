// The HTTP layer alone, over small fakes of the seven stages: routing, status
// codes, error bodies, and the order of the steps in POST /events (nothing is
// stored or audited from a request with a bad line, the audit record is
// written once the events are committed and is durable before the answer,
// statistics count only what was stored, once).
// The assembled server against a real Postgres is tested in package labs,
// which owns the stage implementations: package server depends on no lab.
package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server"
)

// fakes records, in order, what the server asks of its stages. Lines are
// "user=N": just enough grammar to tell good lines from bad ones.
type fakes struct {
	mu       sync.Mutex
	calls    []string
	stored   map[string][]server.Event
	keys     map[string]keyed
	audited  int
	observed int
	auditErr error
	storeErr error
	up       error // what Ping returns
	// parseAs, if set, parses the lines it knows before the "user=N" rule.
	parseAs func([]byte) (server.Event, bool)
}

func (f *fakes) call(name string) {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	f.mu.Unlock()
}

func (f *fakes) stages() server.Stages {
	return server.Stages{
		BodyReader: bodyReader{f}, Parser: parser{f}, Enricher: enricher{f}, Encoder: encoder{f},
		Stats: stats{f}, Auditor: auditor{f}, Store: store{f},
	}
}

type bodyReader struct{ f *fakes }

func (b bodyReader) ReadLines(body io.Reader) ([][]byte, func(), error) {
	b.f.call("read")
	all, err := io.ReadAll(body)
	if err != nil || len(all) == 0 {
		return nil, func() {}, err
	}
	lines := bytes.Split(bytes.TrimSuffix(all, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines, func() {}, nil
}

type parser struct{ f *fakes }

func (p parser) Parse(line []byte) (server.Event, error) {
	if p.f.parseAs != nil {
		if ev, ok := p.f.parseAs(line); ok {
			return ev, nil
		}
	}
	if len(line) == 0 {
		return server.Event{}, server.ErrEmptyLine()
	}
	v, ok := bytes.CutPrefix(line, []byte("user="))
	n, err := strconv.ParseInt(string(v), 10, 64)
	if !ok || err != nil {
		return server.Event{}, server.ErrNotInt("user", v)
	}
	return server.Event{UserID: n, Path: "/", Time: time.Unix(n, 0).UTC()}, nil
}

type enricher struct{ f *fakes }

func (e enricher) Enrich(evs []server.Event) {
	e.f.call("enrich")
	for i := range evs {
		evs[i].Route = server.Route(evs[i].Path)
	}
}

type encoder struct{ f *fakes }

func (e encoder) AuditRecord(id string, _ time.Time, evs []server.Event) ([]byte, error) {
	e.f.call("encode")
	return fmt.Appendf(nil, `{"request_id":%q,"count":%d}`, id, len(evs)), nil
}

func (encoder) WriteAccepted(w io.Writer, id string, n int) error {
	return json.NewEncoder(w).Encode(map[string]any{"request_id": id, "accepted": n})
}

func (encoder) WriteEvents(w io.Writer, user int64, evs []server.StoredEvent) error {
	return json.NewEncoder(w).Encode(map[string]any{"user": user, "count": len(evs)})
}

type stats struct{ f *fakes }

func (s stats) Observe(evs []server.Event) {
	s.f.call("observe")
	s.f.mu.Lock()
	s.f.observed += len(evs)
	s.f.mu.Unlock()
}

func (s stats) WriteJSON(w io.Writer) error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	return json.NewEncoder(w).Encode(map[string]any{"events": s.f.observed})
}

type auditor struct{ f *fakes }

func (a auditor) Append(context.Context, []byte) error {
	a.f.call("audit")
	if a.f.auditErr != nil {
		return a.f.auditErr
	}
	a.f.mu.Lock()
	a.f.audited++
	a.f.mu.Unlock()
	return nil
}

func (auditor) Close() error { return nil }

type store struct{ f *fakes }

func (s store) Insert(_ context.Context, req server.Request) (server.Receipt, error) {
	s.f.call("store")
	if s.f.storeErr != nil {
		return server.Receipt{}, s.f.storeErr
	}
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if k, ok := s.f.keys[req.Key]; ok && req.Key != "" {
		if k.digest != req.Digest {
			return server.Receipt{}, server.ErrKeyReused
		}
		k.receipt.Replayed = true
		return k.receipt, nil
	}
	s.f.stored[req.ID] = req.Events
	r := server.Receipt{RequestID: req.ID, Accepted: len(req.Events)}
	if req.Key != "" {
		s.f.keys[req.Key] = keyed{req.Digest, r}
	}
	return r, nil
}

type keyed struct {
	digest  [32]byte
	receipt server.Receipt
}

func (s store) Recent(_ context.Context, user int64, limit int) ([]server.StoredEvent, error) {
	s.f.call(fmt.Sprintf("recent %d %d", user, limit))
	return nil, s.f.storeErr
}

func (store) Close() error { return nil }

func (f *fakes) Ping(context.Context) error { return f.up }

// newServer returns the server over fresh fakes on a loopback httptest
// server.
func newServer(t *testing.T, cfg server.Config) (*httptest.Server, *fakes) {
	t.Helper()
	f := &fakes{stored: map[string][]server.Event{}, keys: map[string]keyed{}}
	srv, err := server.New(f.stages(), f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newHTTPServer(t, srv), f
}

// newHTTPServer serves h on a loopback httptest server until the test ends.
func newHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	status int
	header http.Header
	json   map[string]any
}

func do(t *testing.T, ts *httptest.Server, method, path, body string) response {
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

func TestPostEventsSteps(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	r := do(t, ts, "POST", "/events", "user=1\r\nuser=2\nuser=3")
	if r.status != 200 || r.json["accepted"] != 3.0 {
		t.Fatalf("got %d %v, want 200 with accepted=3", r.status, r.json)
	}
	want := "read enrich store observe encode audit"
	if got := strings.Join(f.calls, " "); got != want {
		t.Errorf("steps %q, want %q: the audit trail records stored requests only, before the answer", got, want)
	}
	if id, _ := r.json["request_id"].(string); len(f.stored[id]) != 3 {
		t.Errorf("the answer's request_id %q is not the one the store got (%d stored)", id, len(f.stored))
	}
}

func TestBadLineReachesNoStage(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	r := do(t, ts, "POST", "/events", "user=1\nuser=2\nuser=x\nuser=4\n")
	msg, _ := r.json["error"].(string)
	if r.status != 400 || r.json["line"] != 3.0 || !strings.Contains(msg, "line 3") || !strings.Contains(msg, "nothing from this request was stored") {
		t.Fatalf("got %d %v, want 400 naming line 3", r.status, r.json)
	}
	if got := strings.Join(f.calls, " "); got != "read" {
		t.Errorf("steps %q after a bad line, want only the read: all or nothing", got)
	}
}

func TestFailures(t *testing.T) {
	for _, c := range []struct {
		name, key  string
		audit, sto error
		status     int
		msg        string // in the answer
		steps      string
	}{
		{"store fails", "", nil, errors.New("connection refused"), 503, "nothing from this request was stored, retry later", "read enrich store"},
		{"audit fails after the commit", "", errors.New("disk full"), nil, 500, "are stored as request", "read enrich store observe encode audit"},
		{"audit fails, with a key", "k", errors.New("disk full"), nil, 503, "retry with the same Idempotency-Key", "read enrich store observe encode audit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts, f := newServer(t, server.Config{})
			f.auditErr, f.storeErr = c.audit, c.sto
			r := post(t, ts, c.key, "user=1\n")
			msg, _ := r.json["error"].(string)
			if r.status != c.status || !strings.Contains(msg, c.msg) {
				t.Errorf("got %d %q, want %d with %q", r.status, msg, c.status, c.msg)
			}
			if strings.Contains(msg, "disk full") || strings.Contains(msg, "refused") {
				t.Errorf("the answer %q leaks the internal error; it belongs in the log", msg)
			}
			if got := strings.Join(f.calls, " "); got != c.steps {
				t.Errorf("steps %q, want %q", got, c.steps)
			}
		})
	}
	// The retry after a failed audit records the request without storing
	// it again.
	ts, f := newServer(t, server.Config{})
	f.auditErr = errors.New("disk full")
	post(t, ts, "k", "user=1\n")
	f.auditErr = nil
	if r := post(t, ts, "k", "user=1\n"); r.status != 200 || r.header.Get("Idempotency-Replayed") != "true" || f.audited != 1 || len(f.stored) != 1 {
		t.Errorf("retry after a failed audit: %d, replayed %q, %d records, %d stored; want 200, replayed, 1, 1", r.status, r.header.Get("Idempotency-Replayed"), f.audited, len(f.stored))
	}
}

// post sends body with an Idempotency-Key (none if key is "").
func post(t *testing.T, ts *httptest.Server, key, body string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/events", strings.NewReader(body))
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.json); err != nil {
		t.Fatalf("POST /events: %d with a body that is not JSON", resp.StatusCode)
	}
	return r
}

func TestIdempotencyKey(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	first := post(t, ts, "k-1", "user=1\nuser=2\n")
	again := post(t, ts, "k-1", "user=1\r\nuser=2") // the same events, other line endings
	if first.status != 200 || again.status != 200 || again.json["request_id"] != first.json["request_id"] || again.json["accepted"] != 2.0 {
		t.Fatalf("retry with the same key: %d %v then %d %v; want the first answer again", first.status, first.json, again.status, again.json)
	}
	if again.header.Get("Idempotency-Replayed") != "true" || first.header.Get("Idempotency-Replayed") != "" {
		t.Errorf("Idempotency-Replayed: first %q, retry %q; want it on the retry only", first.header.Get("Idempotency-Replayed"), again.header.Get("Idempotency-Replayed"))
	}
	if f.observed != 2 {
		t.Errorf("stats counted %d events for one request and its retry, want 2", f.observed)
	}
	if r := post(t, ts, "k-1", "user=3\n"); r.status != 422 || !strings.Contains(r.json["error"].(string), "different body") {
		t.Errorf("same key, other body: %d %v, want 422", r.status, r.json)
	}
	if r := post(t, ts, "", "user=1\nuser=2\n"); r.status != 200 || r.json["request_id"] == first.json["request_id"] {
		t.Errorf("no key: %d %v, want a new request", r.status, r.json)
	}
	for _, bad := range []string{"has space", strings.Repeat("k", server.MaxKeyLength+1), "caf\u00e9"} {
		if r := post(t, ts, bad, "user=1\n"); r.status != 400 || !strings.Contains(r.json["error"].(string), "Idempotency-Key") {
			t.Errorf("key %q: %d %v, want 400", bad, r.status, r.json)
		}
	}
	if len(f.stored) != 2 {
		t.Errorf("%d requests stored, want 2 (the first, and the one without a key)", len(f.stored))
	}
}

// TestUncertainCommit: when the store cannot tell whether the events were
// committed, the answer never invites a retry that could store them twice.
func TestUncertainCommit(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	f.storeErr = fmt.Errorf("copy: %w", server.ErrUncertain)
	if r := post(t, ts, "", "user=1\n"); r.status != 500 || r.header.Get("Retry-After") != "" || !strings.Contains(r.json["error"].(string), "do not resend") {
		t.Errorf("uncertain, no key: %d %v (Retry-After %q); want 500 without Retry-After", r.status, r.json, r.header.Get("Retry-After"))
	}
	if r := post(t, ts, "k-2", "user=1\n"); r.status != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.json["error"].(string), "same Idempotency-Key is safe") {
		t.Errorf("uncertain, with a key: %d %v; want 503: the retry is safe", r.status, r.json)
	}
}

func TestErrors(t *testing.T) {
	ts, f := newServer(t, server.Config{MaxBodyBytes: 64})
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // in the error message
		allow                    string
	}{
		{"empty body", "POST", "/events", "", 400, "empty body", ""},
		{"only a newline", "POST", "/events", "\n", 400, "line 1: empty line", ""},
		{"blank line inside", "POST", "/events", "user=1\n\nuser=2", 400, "line 2: empty line", ""},
		{"over the limit", "POST", "/events", strings.Repeat("user=1\n", 20), 413, "over the limit of 64 bytes", ""},
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
			r := do(t, ts, c.method, c.path, c.body)
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
	req, _ := http.NewRequest("POST", ts.URL+"/events", io.MultiReader(strings.NewReader(strings.Repeat("user=1\n", 20))))
	req.ContentLength = -1
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("chunked body over the limit: %d, want 413", resp.StatusCode)
	}
	if len(f.stored) != 0 || f.audited != 0 {
		t.Errorf("failed requests reached the trail (%d) or the store (%d)", f.audited, len(f.stored))
	}
}

func TestUserEventsArguments(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	do(t, ts, "GET", "/users/5/events", "")
	do(t, ts, "GET", "/users/6/events?limit=1000", "")
	if got := strings.Join(f.calls, ","); got != fmt.Sprintf("recent 5 %d,recent 6 1000", server.DefaultLimit) {
		t.Errorf("store asked %q", got)
	}
	f.storeErr = errors.New("connection refused")
	if r := do(t, ts, "GET", "/users/5/events", ""); r.status != 503 {
		t.Errorf("store down: %d, want 503", r.status)
	}
}

func TestHealthz(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	if r := do(t, ts, "GET", "/healthz", ""); r.status != 200 {
		t.Fatalf("healthz with a live database: %d", r.status)
	}
	f.up = errors.New("connection refused")
	if r := do(t, ts, "GET", "/healthz", ""); r.status != 503 || !strings.Contains(r.json["error"].(string), "database does not answer") {
		t.Fatalf("healthz with the database down: %d %v, want 503", r.status, r.json)
	}
}

func TestAdmin(t *testing.T) {
	admin := httptest.NewServer(server.Admin())
	defer admin.Close()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/allocs", "/debug/fgprof?seconds=1", "/debug/vars"} {
		resp, err := admin.Client().Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n == 0 {
			t.Errorf("admin %s: %d with %d bytes", path, resp.StatusCode, n)
		}
	}
}

func TestCheckAdminAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true,
		":6060": false, "0.0.0.0:6060": false, "192.168.1.5:6060": false, "nonsense": false, // allowed: parsed, never listened on
	} {
		if err := server.CheckAdminAddr(addr, false); (err == nil) != ok {
			t.Errorf("CheckAdminAddr(%q) = %v; want ok=%v", addr, err, ok)
		}
	}
	if err := server.CheckAdminAddr("0.0.0.0:6060", true); err != nil {
		t.Errorf("allowRemote must allow any address: %v", err)
	}
}

// TestLoopbackOnly calls the handler directly with httptest.NewRequest: the
// names and addresses below are Host and Origin header values, never dialled.
func TestLoopbackOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := server.LoopbackOnly(ok)
	for _, c := range []struct {
		name, host string
		header     map[string]string
		want       int
	}{
		{"curl on 127.0.0.1", "127.0.0.1:8080", nil, 204},
		{"localhost", "localhost:8080", nil, 204},
		{"IPv6 loopback", "[::1]:8080", nil, 204},
		{"a page on this machine", "localhost:8080", map[string]string{"Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"}, 204},
		{"DNS rebinding", "rebind.example:8080", nil, 421},
		{"LAN address", "192.168.1.5:8080", nil, 421},
		{"cross-site form post", "127.0.0.1:8080", map[string]string{"Origin": "https://evil.example"}, 403},
		{"opaque origin", "127.0.0.1:8080", map[string]string{"Origin": "null"}, 403},
		{"cross-site without Origin", "127.0.0.1:8080", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	} {
		req := httptest.NewRequest("POST", "/events", strings.NewReader("user=1\n"))
		req.Host = c.host
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.want)
		}
	}
}

// TestInputBounds: what a client sends cannot make the server keep or
// return unbounded data, nor store what it cannot give back.
func TestInputBounds(t *testing.T) {
	ts, f := newServer(t, server.Config{})
	f.parseAs = func(line []byte) (server.Event, bool) {
		switch string(line) {
		case "long":
			return server.Event{Path: "/" + strings.Repeat("a", server.MaxPathLength), Time: time.Unix(0, 0)}, true
		case "year 10000":
			return server.Event{Path: "/", Time: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(23*3600+59*60)))}, true
		case "edge":
			return server.Event{Path: "/" + strings.Repeat("a", server.MaxPathLength-1), Time: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}, true
		}
		return server.Event{}, false
	}
	for body, want := range map[string]string{"long": "path: 2049 bytes long, over the limit of 2048", "year 10000": "ts: in UTC it falls outside the years 0000 to 9999"} {
		if r := post(t, ts, "", "user=1\n"+body+"\n"); r.status != 400 || r.json["line"] != 2.0 || !strings.Contains(r.json["error"].(string), want) {
			t.Errorf("%s: %d %v, want 400 naming line 2: %s", body, r.status, r.json, want)
		}
	}
	if r := post(t, ts, "", "edge\n"); r.status != 200 {
		t.Errorf("a path of exactly %d bytes in the year 9999: %d %v, want 200", server.MaxPathLength, r.status, r.json)
	}
	if r := do(t, ts, "GET", "/users/+1/events", ""); r.status != 400 {
		t.Errorf("user +1: %d, want 400: +1 is not a user id", r.status)
	}
}
