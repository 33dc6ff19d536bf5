package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// build compiles this command into the test's temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flamelab-server")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer is a bytes.Buffer the process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is one run of the server binary, on loopback ports of its own.
type proc struct {
	cmd           *exec.Cmd
	public, admin string // http://127.0.0.1:PORT
	stderr        *lockedBuffer
}

var readyLine = regexp.MustCompile(`ready: public=(http://127\.0\.0\.1:\d+) admin=(http://127\.0\.0\.1:\d+)`)

// start runs bin against dbURL with args and waits until it is ready. The
// process is killed at the end of the test if it is still running.
func start(t *testing.T, bin, dbURL string, args ...string) *proc {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FLAMELAB_DATABASE_URL="+dbURL)
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
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
			t.Fatalf("server exited before it was ready; stderr:\n%s", p.stderr)
		}
		p.public, p.admin = m[1], m[2]
	case <-time.After(60 * time.Second):
		t.Fatalf("server not ready in 60s; stderr:\n%s", p.stderr)
	}
	return p
}

// wait waits for the process to exit, at most limit (a guard against a
// hang, not a measurement).
func (p *proc) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-done
		t.Fatalf("server still running %s after being asked to stop; stderr:\n%s", limit, p.stderr)
		return nil
	}
}

// acks collects, from many clients, the request ids the server
// acknowledged, and closes enough once want of them have arrived.
type acks struct {
	mu     sync.Mutex
	ids    []string
	want   int
	once   sync.Once
	enough chan struct{}
}

func newAcks(want int) *acks { return &acks{want: want, enough: make(chan struct{})} }

// add reads resp's answer and keeps its request id; false unless it is a
// 200, which ends that client's loop.
func (a *acks) add(resp *http.Response) bool {
	var out struct {
		RequestID string `json:"request_id"`
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ids = append(a.ids, out.RequestID)
	if len(a.ids) == a.want {
		a.once.Do(func() { close(a.enough) })
	}
	return true
}

// list returns the ids acknowledged so far.
func (a *acks) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}
