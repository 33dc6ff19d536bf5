package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestDiscardDoesNothing proves the capstone's HTTP ceiling is what its
// name says, on the real binary: after N POSTs to flamelab-server -discard,
// the database has no rows, the audit file does not exist, and the
// server's own counters show no round trip and no fsync; and it answers
// as the real server does (status, content type, the same JSON fields, the
// same accepted count). A ceiling that did the work would bound nothing:
// for a week one ran the whole fixed server and measured it against itself.
func TestDiscardDoesNothing(t *testing.T) {
	bin := build(t)
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit-discard.log")
	p := start(t, bin, db.URL, "-discard", "-audit-file", audit)

	const posts, lines = 20, 50
	var shape answer
	for i := range posts {
		a := post(t, p.public, load.Body(1, i, lines))
		if a.status != http.StatusOK || a.accepted != lines {
			t.Fatalf("POST %d: %d, accepted %d; want 200, accepted %d (%s)", i, a.status, a.accepted, lines, a.raw)
		}
		shape = a
	}
	vars := adminVars(t, p.admin)
	if vars.Mode != "discard" {
		t.Errorf("mode %q on /debug/vars, want discard", vars.Mode)
	}
	if vars.RoundTrips != 0 || vars.Fsyncs != 0 {
		t.Errorf("after %d POSTs the do-nothing server made %d database round trips and %d audit fsyncs; want 0 and 0", posts, vars.RoundTrips, vars.Fsyncs)
	}
	var rows int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("after %d POSTs of %d lines to the do-nothing server the database holds %d rows, want 0: it ran the real server", posts, lines, rows)
	}
	if _, err := os.Stat(audit); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the do-nothing server created its audit file (%v); it must touch no audit file", err)
	}

	// The same shape as the real server's answer, so the load generator
	// reads both alike.
	real := start(t, bin, db.URL, "-stages", "all=solution", "-audit-file", filepath.Join(dir, "audit-real.log"))
	want := post(t, real.public, load.Body(1, 0, lines))
	if want.status != shape.status || want.contentType != shape.contentType || want.accepted != shape.accepted ||
		!slices.Equal(slices.Sorted(maps.Keys(want.fields)), slices.Sorted(maps.Keys(shape.fields))) {
		t.Errorf("the do-nothing server answers %d %q %s; the server answers %d %q %s", shape.status, shape.contentType, shape.raw, want.status, want.contentType, want.raw)
	}
	if v := adminVars(t, real.admin); v.Mode != "server" || v.RoundTrips == 0 || v.Fsyncs == 0 {
		t.Errorf("the real server's counters read mode %q, %d round trips, %d fsyncs after a POST: the counters this test trusts do not count", v.Mode, v.RoundTrips, v.Fsyncs)
	}
}

type answer struct {
	status      int
	contentType string
	accepted    int
	fields      map[string]any
	raw         string
}

func post(t *testing.T, base string, body []byte) answer {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post(base+"/events", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: string(raw)}
	if err := json.Unmarshal(raw, &a.fields); err != nil {
		t.Fatalf("answer is not JSON: %q", raw)
	}
	if n, ok := a.fields["accepted"].(float64); ok {
		a.accepted = int(n)
	}
	return a
}

type counterVars struct {
	Mode       string `json:"mode"`
	RoundTrips int64  `json:"db_round_trips"`
	Fsyncs     int64  `json:"audit_fsyncs"`
}

func adminVars(t *testing.T, admin string) counterVars {
	t.Helper()
	resp, err := http.Get(admin + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v counterVars
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
