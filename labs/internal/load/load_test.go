package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestExactCount(t *testing.T) {
	for _, mode := range []Mode{Capacity, Latency} {
		t.Run(string(mode), func(t *testing.T) {
			var hits, lines atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				hits.Add(1)
				lines.Add(int64(strings.Count(string(b), "\n")))
				if r.URL.Path != "/events" || r.Method != "POST" {
					w.WriteHeader(404)
				}
			}))
			defer srv.Close()

			res, err := Run(context.Background(), Spec{Target: srv.URL, Mode: mode, Requests: 137, Warmup: 11,
				Workers: 4, Rate: 2000, Lines: 3, Seed: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := hits.Load(); got != 137+11 {
				t.Errorf("server saw %d requests, want 137 measured + 11 warm-up", got)
			}
			if res.Requests != 137 || res.Succeeded != 137 || res.Statuses["200"] != 137 {
				t.Errorf("result counts %d requests, %d ok, statuses %v; want 137", res.Requests, res.Succeeded, res.Statuses)
			}
			if lines.Load() != 148*3 {
				t.Errorf("%d lines sent, want %d", lines.Load(), 148*3)
			}
			if res.ReqPerSec <= 0 || res.P50 <= 0 || res.Max < res.P99 {
				t.Errorf("summary not filled in: %+v", res)
			}
		})
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, target := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.1", "http://8.8.8.8", "http://example.com", // allowed: refused before any connection
		"http://localhost:8080", "https://127.0.0.1:8080", "127.0.0.1:8080",
	} {
		_, err := Run(context.Background(), Spec{Target: target, Mode: Capacity, Requests: 1, Workers: 1, Lines: 1}, nil)
		if err == nil {
			t.Errorf("Run accepted target %s", target)
		}
	}
	for _, target := range []string{"http://127.0.0.1:1", "http://[::1]:1", "http://127.0.0.2:1"} {
		if err := CheckLoopback(target); err != nil {
			t.Errorf("CheckLoopback(%s) = %v; want ok", target, err)
		}
	}
	// The dialer guards too, whatever the URL said.
	if err := loopbackOnly("tcp", "10.1.2.3:80", nil); err == nil { // allowed: the guard is called, nothing dials
		t.Error("dialer would connect to 10.1.2.3") // allowed: a message
	}
}

func TestDeterministicBodies(t *testing.T) {
	a, b := Body(7, 3, 5), Body(7, 3, 5)
	if string(a) != string(b) || string(a) == string(Body(7, 4, 5)) || string(a) == string(Body(8, 3, 5)) {
		t.Error("Body must be a pure function of (seed, index) and differ between them")
	}
	if n := strings.Count(string(a), "\n"); n != 5 {
		t.Errorf("%d lines, want 5", n)
	}
}

func TestStopsByItself(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond) // a slow server, so the limit ends the run
	}))
	defer srv.Close()
	res, _ := Run(context.Background(), Spec{Target: srv.URL, Mode: Capacity, Requests: 10000, Workers: 2, Lines: 1,
		Limit: 300 * time.Millisecond}, nil)
	if !res.TimedOut || res.Requests >= 10000 {
		t.Errorf("run was not cut short: %+v", res)
	}
}

func TestRecentReads(t *testing.T) {
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/users/") && r.URL.Query().Get("limit") == "50" {
			gets.Add(1)
			return
		}
		w.WriteHeader(400)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Spec{Target: srv.URL, Kind: Recent, Mode: Capacity, Requests: 25, Workers: 3, Seed: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gets.Load() != 25 || res.Succeeded != 25 {
		t.Errorf("%d reads served, %d succeeded; want 25", gets.Load(), res.Succeeded)
	}
}
