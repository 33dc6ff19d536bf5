package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// slowPost opens a connection to the server at base and starts a POST
// /events that announces bodyLen bytes and then sends one byte every
// interval. It returns the connection and a channel closed when the server
// closes it.
func slowPost(t *testing.T, base string, bodyLen int, interval time.Duration) (net.Conn, <-chan struct{}) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", bodyLen)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
	}()
	go func() {
		for range bodyLen {
			select {
			case <-closed:
				return
			case <-time.After(interval):
			}
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	return conn, closed
}

// TestSlowAndIdleClients: a client that sends its body at a byte a second,
// and keep-alive connections left idle, are cut off by the server; and a
// shutdown with a slow client still sending exits 0 within its bound.
func TestSlowAndIdleClients(t *testing.T) {
	bin := build(t)
	db := pgtest.DB(t)
	args := []string{"-audit-file", filepath.Join(t.TempDir(), "audit.log"), "-read-timeout", "2s", "-idle-timeout", "1s", "-shutdown-timeout", "1s"}

	t.Run("slow body", func(t *testing.T) {
		p := start(t, bin, db.URL, args...)
		_, closed := slowPost(t, p.public, 1000, time.Second)
		select {
		case <-closed:
		case <-time.After(30 * time.Second): // a guard: the read timeout is 2 s
			t.Fatal("a client sending a byte a second was still connected after 30 s")
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		p := start(t, bin, db.URL, args...)
		const n = 50
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				conn, err := net.Dial("tcp", strings.TrimPrefix(p.public, "http://"))
				if err != nil {
					t.Error(err)
					return
				}
				defer conn.Close()
				fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
				r := bufio.NewReader(conn)
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				// Now idle. The server must close it: the read ends.
				_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a guard: the idle timeout is 1 s
				if _, err := r.ReadByte(); err != io.EOF {
					t.Errorf("an idle keep-alive connection was not closed by the server: %v", err)
				}
			})
		}
		wg.Wait()
	})

	t.Run("shutdown with a slow client", func(t *testing.T) {
		p := start(t, bin, db.URL, append(args, "-read-timeout", "60s")...)
		_, closed := slowPost(t, p.public, 1000, time.Second)
		time.Sleep(200 * time.Millisecond) // the request is being read
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.wait(t, 30*time.Second); err != nil { // a guard: the bound is 1 s
			t.Errorf("exit with a slow client: %v, want 0; stderr:\n%s", err, p.stderr)
		}
		<-closed
		if !strings.Contains(p.stderr.String(), "cutting the connections") {
			t.Errorf("the shutdown did not say it cut the slow client; stderr:\n%s", p.stderr)
		}
	})
}

// TestHostileInput: long paths, many distinct paths and the largest pages
// leave the server's heap, after a GC, under a bound: a count of bytes, not a
// time.
func TestHostileInput(t *testing.T) {
	const heapBound = 64 << 20
	bin := build(t)
	db := pgtest.DB(t)
	pgtest.Truncate(t, db)
	p := start(t, bin, db.URL, "-audit-file", filepath.Join(t.TempDir(), "audit.log"), "-stages", "all=solution")
	client := &http.Client{Timeout: 60 * time.Second}
	post := func(body string) int {
		resp, err := client.Post(p.public+"/events", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	line := func(user int, path string) string {
		return fmt.Sprintf("ts=2026-11-25T07:39:56Z user=%d path=%s status=200 latency_ms=1 bytes=1\n", user, path)
	}

	// A path of 900 KB: refused.
	if code := post(line(1, "/"+strings.Repeat("a", 900_000))); code != 400 {
		t.Errorf("a 900 KB path: %d, want 400", code)
	}
	// 20,000 distinct routes of 2 KB each, 400 per request (800 KB).
	long := strings.Repeat("b", server.MaxPathLength-12)
	for r := range 50 {
		var b strings.Builder
		for i := range 400 {
			fmt.Fprintf(&b, "%s", line(7, fmt.Sprintf("/%s%05dx%04d", long, r, i)))
		}
		if code := post(b.String()); code != 200 {
			t.Fatalf("request %d of distinct routes: %d", r, code)
		}
	}
	var stats server.StatsReport
	size := getJSON(t, client, p.public+"/stats", &stats)
	if len(stats.ByRoute) > server.MaxRoutes+1 || stats.ByRoute[server.OtherRoute] == 0 {
		t.Errorf("/stats tracks %d routes (%d events under %q); want at most %d, the rest folded", len(stats.ByRoute), stats.ByRoute[server.OtherRoute], server.OtherRoute, server.MaxRoutes)
	}
	// The largest page: 1000 events of user 7, each with a 2 KB path.
	var page struct {
		Events []json.RawMessage `json:"events"`
	}
	pageSize := getJSON(t, client, p.public+"/users/7/events?limit=1000", &page)
	if len(page.Events) != 1000 {
		t.Errorf("the largest page has %d events, want 1000", len(page.Events))
	}

	// The heap after a GC (the heap profile's ?gc=1 runs one).
	getJSON(t, client, p.admin+"/debug/pprof/heap?gc=1&debug=0", nil)
	var vars struct {
		MemStats struct{ HeapAlloc uint64 } `json:"memstats"`
	}
	getJSON(t, client, p.admin+"/debug/vars", &vars)
	t.Logf("after 20,000 distinct 2 KB routes: /stats is %d KB, the largest page %d KB, the heap after GC %.1f MB (bound %d MB)",
		size>>10, pageSize>>10, float64(vars.MemStats.HeapAlloc)/1e6, heapBound>>20)
	if vars.MemStats.HeapAlloc > heapBound {
		t.Errorf("heap after GC is %d bytes, over the bound of %d", vars.MemStats.HeapAlloc, heapBound)
	}
}

// getJSON fetches url, decodes it into v unless v is nil, and returns the
// body's size.
func getJSON(t *testing.T, c *http.Client, url string, v any) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return len(body)
}
