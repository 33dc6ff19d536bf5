// Package flight writes the execution trace of the last few seconds to a
// file when a request is slow: Go's flight recorder
// (runtime/trace.FlightRecorder), triggered by the requests themselves.
//
// A CPU profile says where the CPU went over its window, 30 seconds say;
// a request that waited 200 ms once in those 30 seconds is not in it, and
// by the time someone hears of the slow request it is over. The flight
// recorder keeps the runtime's execution trace in memory, a moving window
// of the last seconds, and writes it out on demand; Recorder asks for it
// when a request took longer than Config.Slow, so the trace on disk shows
// what every goroutine was doing while that request waited:
//
//	rec, err := flight.Start(flight.Config{Slow: 200 * time.Millisecond, Dir: "traces"})
//	if err != nil { ... }
//	defer rec.Stop()
//	http.ListenAndServe(addr, rec.Handler(mux))
//
// Then, for the file a log line names:
//
//	go tool trace traces/flight-20261201-193301.412-1.trace
//
// and in its "Goroutines" view, the goroutines by the function that started
// them, each with the time it spent blocked and on what; a goroutine's
// page shows the stack of every block. Lab 10 (labs/10-production) reads one.
//
// At most one snapshot is written per Config.Every: a stall that slows a
// hundred requests writes one file, not a hundred. Writing happens off the
// request's goroutine, so the slow request is not made slower still.
//
// The recorder costs the server its tracing: every scheduling event is
// recorded, always. Lab 10's README measures what that costs this server.
package flight

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Recorder. Zero values mean the defaults.
type Config struct {
	// Slow is the request duration that triggers a snapshot; required.
	Slow time.Duration
	// Dir is where snapshots go, created if missing; required.
	Dir string
	// Every is the least time between two snapshots; DefaultEvery.
	Every time.Duration
	// Window is how much trace the recorder keeps (its MinAge): enough to
	// see a slow request from its start, and what started before it;
	// DefaultWindow.
	Window time.Duration
	// MaxBytes bounds the memory the window takes, overriding Window when
	// the trace is busier than that; DefaultMaxBytes.
	MaxBytes uint64
	// Logger says where each snapshot went; slog.Default().
	Logger *slog.Logger
}

// Defaults for Config.
const (
	DefaultEvery    = 10 * time.Second
	DefaultWindow   = 5 * time.Second
	DefaultMaxBytes = 64 << 20
)

// Recorder runs the flight recorder and writes snapshots of it. Create it
// with Start.
type Recorder struct {
	cfg Config
	fr  *trace.FlightRecorder

	last      atomic.Int64 // unix nanoseconds of the last snapshot taken
	snapshots atomic.Int64 // written
	writes    sync.WaitGroup
}

// Start starts the flight recorder. Only one may run in a process at a time
// (a runtime limit), beside which trace.Start and /debug/pprof/trace still
// work.
func Start(cfg Config) (*Recorder, error) {
	if cfg.Slow <= 0 || cfg.Dir == "" {
		return nil, errors.New("flight: Config.Slow and Config.Dir are required")
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("flight: snapshot directory: %w", err)
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: cfg.Window, MaxBytes: cfg.MaxBytes})
	if err := fr.Start(); err != nil {
		return nil, fmt.Errorf("flight: %w (is another flight recorder running in this process?)", err)
	}
	return &Recorder{cfg: cfg, fr: fr}, nil
}

// Handler wraps h: a request that takes longer than Config.Slow triggers a
// snapshot, once it has been answered.
func (r *Recorder) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, req)
		if took := time.Since(start); took > r.cfg.Slow {
			r.Trigger(fmt.Sprintf("%s %s took %s (over %s)", req.Method, req.URL.Path, took.Round(time.Millisecond), r.cfg.Slow))
		}
	})
}

// Trigger writes a snapshot, unless one was taken less than Config.Every
// ago, in the background; why is logged with the file's path. It reports
// whether it started one.
func (r *Recorder) Trigger(why string) bool {
	now := time.Now()
	last := r.last.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < r.cfg.Every || !r.last.CompareAndSwap(last, now.UnixNano()) {
		return false
	}
	n := r.snapshots.Add(1)
	path := filepath.Join(r.cfg.Dir, fmt.Sprintf("flight-%s-%d.trace", now.Format("20060102-150405.000"), n))
	r.writes.Go(func() {
		if err := r.write(path); err != nil {
			r.cfg.Logger.Warn("flight recorder: snapshot failed", "why", why, "err", err)
			return
		}
		r.cfg.Logger.Info("flight recorder: slow request, trace of the last seconds written", "why", why, "trace", path)
	})
	return true
}

func (r *Recorder) write(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := r.fr.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Snapshots returns how many snapshots were started.
func (r *Recorder) Snapshots() int64 { return r.snapshots.Load() }

// Stop waits for the snapshots being written, then stops the recorder.
func (r *Recorder) Stop() {
	r.writes.Wait()
	r.fr.Stop()
}
