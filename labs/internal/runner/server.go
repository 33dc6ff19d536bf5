package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/server"
)

// serverProc is one flamelab-server process: the server always runs in its
// own process, so the load generator never shows up in its profiles.
type serverProc struct {
	cmd    *exec.Cmd
	public string // http://127.0.0.1:PORT
	admin  string // http://127.0.0.1:PORT
	stderr *strings.Builder
}

var readyLine = regexp.MustCompile(`ready: public=(http://\S+) admin=(http://[^/\s]+)`)

// startServer runs bin with the given stage choice against dbURL and waits
// until it says it is ready.
func startServer(ctx context.Context, bin, stages, dbURL, auditPath string, profiling bool, extra ...string) (*serverProc, error) {
	args := append([]string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-stages", stages, "-audit-file", auditPath}, extra...)
	if profiling {
		// Sample 1 in 5 contention events and blocking over 10µs: enough
		// to see where goroutines wait, cheap enough not to change it.
		args = append(args, "-mutex-profile-fraction", "5", "-block-profile-rate", "10000")
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FLAMELAB_DATABASE_URL="+dbURL)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &serverProc{cmd: cmd, stderr: stderr}
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		close(ready)
	}()
	select {
	case m, ok := <-ready:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("flamelab-server exited before it was ready:\n%s", stderr)
		}
		p.public, p.admin = m[1], m[2]
		return p, nil
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	p.kill()
	return nil, fmt.Errorf("flamelab-server not ready within 60s:\n%s", stderr)
}

// stop shuts the server down gracefully and waits for it.
func (p *serverProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("flamelab-server: %v\n%s", err, p.stderr)
		}
		return nil
	case <-time.After(60 * time.Second):
		p.kill()
		return fmt.Errorf("flamelab-server did not stop within 60s of SIGTERM:\n%s", p.stderr)
	}
}

func (p *serverProc) kill() {
	_ = p.cmd.Process.Kill()
	_, _ = p.cmd.Process.Wait()
}

// memStats are the runtime counters the runner turns into per-request figures.
type memStats struct {
	Mallocs    uint64
	TotalAlloc uint64 // bytes allocated, cumulative
	NumGC      uint32
	RoundTrips int64   // database round trips (the server's pgx tracer)
	Fsyncs     int64   // the audit file's fsyncs
	CopySecs   float64 // seconds spent in COPYs, summed over connections
	Sched      server.SchedStats
	Mode       string // "server", or "discard" for the do-nothing server
	Snapshots  int64  // the flight recorder's snapshots (-flight-recorder)
}

func (p *serverProc) memStats(ctx context.Context) (memStats, error) {
	var v struct {
		MemStats struct {
			Mallocs    uint64 `json:"Mallocs"`
			TotalAlloc uint64 `json:"TotalAlloc"`
			NumGC      uint32 `json:"NumGC"`
		} `json:"memstats"`
		RoundTrips int64             `json:"db_round_trips"`
		Fsyncs     int64             `json:"audit_fsyncs"`
		CopySecs   float64           `json:"db_copy_seconds"`
		Sched      server.SchedStats `json:"sched"`
		Mode       string            `json:"mode"`
		Snapshots  int64             `json:"flight_snapshots"`
	}
	body, err := get(ctx, p.admin+"/debug/vars")
	if err != nil {
		return memStats{}, err
	}
	err = json.Unmarshal(body, &v)
	return memStats{Mallocs: v.MemStats.Mallocs, TotalAlloc: v.MemStats.TotalAlloc, NumGC: v.MemStats.NumGC, RoundTrips: v.RoundTrips, Fsyncs: v.Fsyncs, CopySecs: v.CopySecs, Sched: v.Sched, Mode: v.Mode, Snapshots: v.Snapshots}, err
}

// Sweep is what one key sweep did, as the server's admin port answered.
type Sweep struct {
	Keys    int64   `json:"swept"`
	Seconds float64 `json:"seconds"`
}

// sweepAfter waits d, then runs the server's key sweep and waits for it.
func (p *serverProc) sweepAfter(ctx context.Context, d time.Duration) (*Sweep, error) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.admin+"/debug/flamelab/sweep-keys", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("key sweep: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("key sweep: %s: %s (%v)", resp.Status, body, err)
	}
	var s Sweep
	return &s, json.Unmarshal(body, &s)
}

// get fetches url (always the server's loopback admin port).
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}
