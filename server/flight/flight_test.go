package flight_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server/flight"
)

// slow is the threshold of these tests: far over what a request that does
// nothing takes, even under the race detector on a busy machine, and far
// under the stall the tests hold a request in.
const slow = 300 * time.Millisecond

// stalled is where the slow requests of these tests wait, so the snapshot
// can be searched for it by name.
//
//go:noinline
func stalled(release <-chan struct{}) { <-release }

func serve(release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			stalled(release)
		}
	})
}

func snapshots(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "flight-*.trace"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestOneSnapshotPerStall: three requests held in one stall, and fast
// requests around them, write exactly one snapshot (Config.Every), and the
// snapshot holds the stalled requests' goroutines blocked where they were,
// with their stacks.
func TestOneSnapshotPerStall(t *testing.T) {
	dir := t.TempDir()
	rec, err := flight.Start(flight.Config{Slow: slow, Dir: dir, Every: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := rec.Handler(serve(nil))
	release := make(chan struct{})
	hs := rec.Handler(serve(release))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { hs.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/slow", nil)) })
	}
	for range 20 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/fast", nil))
	}
	time.Sleep(slow + 200*time.Millisecond) // the stall: longer than slow, whatever the machine
	close(release)
	wg.Wait()
	rec.Stop()

	files := snapshots(t, dir)
	if len(files) != 1 || rec.Snapshots() != 1 {
		t.Fatalf("%d snapshot files, %d counted; want exactly 1 for one stall of three requests", len(files), rec.Snapshots())
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	waits, span, err := flight.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var found int
	for _, w := range waits {
		if w.Has("flight_test.stalled") {
			found++
			if w.For < slow || w.Reason != "chan receive" {
				t.Errorf("stalled goroutine %d: waited %s (%q); want at least %s on a chan receive", w.Goroutine, w.For, w.Reason, slow)
			}
		}
	}
	if found != 3 {
		t.Errorf("the snapshot (%s of trace, %d waits) shows %d goroutines blocked in stalled; want the 3 slow requests", span, len(waits), found)
	}
}

// TestNoSnapshotWhenFast: requests under the threshold write nothing.
func TestNoSnapshotWhenFast(t *testing.T) {
	dir := t.TempDir()
	rec, err := flight.Start(flight.Config{Slow: slow, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h := rec.Handler(serve(nil))
	for range 50 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/fast", nil))
	}
	rec.Stop()
	if files := snapshots(t, dir); len(files) != 0 || rec.Snapshots() != 0 {
		t.Errorf("%d snapshots for 50 fast requests; want none", len(files))
	}
}

// TestEvery: two stalls further apart than Config.Every write two
// snapshots, and Trigger refuses a third inside Every.
func TestEvery(t *testing.T) {
	dir := t.TempDir()
	rec, err := flight.Start(flight.Config{Slow: time.Hour, Dir: dir, Every: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Trigger("first") {
		t.Error("the first trigger wrote nothing")
	}
	time.Sleep(600 * time.Millisecond)
	if !rec.Trigger("second, past Every") {
		t.Error("a trigger past Every wrote nothing")
	}
	if rec.Trigger("third, inside Every") {
		t.Error("a trigger inside Every wrote a snapshot")
	}
	rec.Stop()
	if files := snapshots(t, dir); len(files) != 2 {
		t.Errorf("%d snapshots; want 2", len(files))
	}
}
