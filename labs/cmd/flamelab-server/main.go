// Command flamelab-server runs the flamelab event-ingest server.
//
//	go run ./labs/cmd/flamelab-server                    # all stages at baseline: the slow server
//	go run ./labs/cmd/flamelab-server -stages all=solution
//	go run ./labs/cmd/flamelab-server -stages 6=exercise # your lab 6 exercise, the rest at baseline
//
// It serves the public API on -addr and the profiling endpoints on -admin
// (loopback only unless -admin-allow-remote). It gets its database from
// package postgres (FLAMELAB_DATABASE_URL, a testcontainer, or local
// binaries), durable by default because the labs measure commits.
//
// On SIGINT or SIGTERM it stops accepting connections, finishes the requests
// in flight, closes the audit trail and the store, and removes the database it
// started. Every acknowledged event has been committed before its answer, so
// nothing acknowledged is lost.
//
// Once both listeners are up it prints one line starting "flamelab-server
// ready:" with the addresses (useful with port 0), for the lab runner.
package main

import (
	"bytes"
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/labs"
	_ "github.com/flamelab/flamelab/labs/exercises" // the exercises a build tag links (package doc)
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/flight"
	"github.com/flamelab/flamelab/server/postgres"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flamelab-server:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	addr, adminAddr          string
	allowRemote, anyHost     bool
	stages                   string
	maxBody                  int64
	auditPath                string
	durable                  bool
	mutexFrac, blockRate     int
	drain, dbTimeout         time.Duration
	readTimeout, idleTimeout time.Duration
	discard                  bool
	noAuditFsync             bool
	sweepEvery               time.Duration
	flightSlow               time.Duration
	flightDir                string
	flightEvery              time.Duration
	noLabels                 bool
}

func parseFlags() *options {
	o := &options{}
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "public listen address")
	flag.StringVar(&o.adminAddr, "admin", "127.0.0.1:6060", "admin (pprof, fgprof) listen address; loopback only unless -admin-allow-remote")
	flag.BoolVar(&o.allowRemote, "admin-allow-remote", false, "allow -admin on a non-loopback address (profiles expose the code)")
	flag.StringVar(&o.stages, "stages", "all=baseline", "implementation per lab: LAB=IMPL pairs, e.g. all=baseline,6=solution")
	flag.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBodyBytes, "largest POST /events body in bytes")
	flag.StringVar(&o.auditPath, "audit-file", "", "the durable audit trail (appended, fsync'd; mode 0600, never through a symlink); default audit.log in a private (0700) flamelab directory under the user's cache directory")
	flag.BoolVar(&o.durable, "durable", true, "database with fsync on; false is faster and loses commits on a crash (never for measurements)")
	flag.IntVar(&o.mutexFrac, "mutex-profile-fraction", 0, "runtime.SetMutexProfileFraction: report 1 in N mutex contention events (0: off)")
	flag.IntVar(&o.blockRate, "block-profile-rate", 0, "runtime.SetBlockProfileRate: sample blocking events of at least N ns (0: off, 1: all)")
	flag.DurationVar(&o.drain, "shutdown-timeout", 10*time.Second, "on shutdown, how long requests in flight may take before their connections are cut; the process exits at most "+shutdownMargin.String()+" later, even with the database frozen")
	flag.DurationVar(&o.dbTimeout, "db-timeout", server.DefaultStoreTimeout, "how long a request, or a batch, may wait for the database")
	flag.DurationVar(&o.readTimeout, "read-timeout", 30*time.Second, "the most a client may take to send a request, body included")
	flag.DurationVar(&o.idleTimeout, "idle-timeout", 30*time.Second, "how long an idle keep-alive connection stays open")
	flag.BoolVar(&o.discard, "discard", false, "a server that does nothing: answer POST /events as the server would, but only read the body (no database, no stage, no audit file): the machine's HTTP ceiling for the same load (make capstone)")
	flag.BoolVar(&o.noAuditFsync, "experiment-no-audit-fsync", false, "an experiment, never for a real trail: the audit file is not fsync'd, so an acknowledged request's record can be lost in a crash (make capstone measures what the fsyncs cost)")
	flag.DurationVar(&o.sweepEvery, "key-sweep-every", time.Hour, "how often to forget the Idempotency-Keys older than "+server.KeyRetention.String()+" (at start, then at this interval); 0: only when asked, with POST /debug/flamelab/sweep-keys on the admin port")
	flag.DurationVar(&o.flightSlow, "flight-recorder", 0, "keep the last seconds of execution trace in memory (runtime/trace's flight recorder) and write them to -flight-dir when a request takes longer than this, at most once per -flight-every (0: off)")
	flag.DurationVar(&o.flightEvery, "flight-every", flight.DefaultEvery, "with -flight-recorder: the least time between two snapshots")
	flag.StringVar(&o.flightDir, "flight-dir", "", "where -flight-recorder writes its snapshots; default flight/ in the private flamelab directory beside the audit file")
	flag.BoolVar(&o.noLabels, "no-pprof-labels", false, "run the stages without their profiler labels (route=, stage=): lab 10 measures what the labels cost")
	flag.BoolVar(&o.anyHost, "allow-any-host", false, "serve any Host and cross-site Origin on the public port (off: loopback names only; see server.LoopbackOnly)")
	flag.Parse()
	return o
}

func run() error {
	o := parseFlags()
	if err := server.CheckAdminAddr(o.adminAddr, o.allowRemote); err != nil {
		return err
	}
	runtime.SetMutexProfileFraction(o.mutexFrac)
	runtime.SetBlockProfileRate(o.blockRate)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The counters the lab runner reads on the admin port (/debug/vars),
	// published whatever the mode, so a do-nothing server can be seen to
	// do nothing: database round trips (a pgx tracer), audit fsyncs, and
	// the mode itself; and the seconds spent in COPYs, over all
	// connections, from which the runner reads the batches in flight.
	c := &counters{trips: &postgres.RoundTrips{}, fsyncs: new(atomic.Int64), swept: new(atomic.Int64)}
	expvar.Publish("db_round_trips", expvar.Func(func() any { return c.trips.Total() }))
	expvar.Publish("audit_fsyncs", expvar.Func(func() any { return c.fsyncs.Load() }))
	expvar.Publish("db_copy_seconds", expvar.Func(func() any { return c.trips.CopySeconds() }))
	expvar.Publish("keys_swept", expvar.Func(func() any { return c.swept.Load() }))
	mode := "server"
	if o.discard {
		mode = "discard"
	}
	expvar.NewString("mode").Set(mode)
	server.PublishSchedStats()

	var svc *service
	var err error
	if o.discard {
		svc = discardService(o)
	} else if svc, err = newService(ctx, o, c); err != nil {
		return err
	}
	return serve(ctx, stop, o, svc)
}

// counters are what the server counts for the runner.
type counters struct {
	trips  *postgres.RoundTrips
	fsyncs *atomic.Int64
	swept  *atomic.Int64 // Idempotency-Keys forgotten
}

// service is what the public port serves and what shutdown closes.
type service struct {
	handler http.Handler
	// close releases the stages and the database, within ctx; nil for
	// the do-nothing server, which holds neither.
	close func(ctx context.Context) error
	// sweep forgets the expired Idempotency-Keys now; nil for the
	// do-nothing server.
	sweep func(ctx context.Context) (int64, error)
	say   []string // what it is, for the log
}

// newService provisions the database and assembles the stages o asks for.
func newService(ctx context.Context, o *options, c *counters) (*service, error) {
	choice, err := labs.ParseChoice(o.stages)
	if err != nil {
		return nil, err
	}
	if o.auditPath == "" {
		if o.auditPath, err = privateAuditPath(); err != nil {
			return nil, err
		}
	}
	d := postgres.Durable
	if !o.durable {
		d = postgres.Fast
	}
	db, err := postgres.Provision(ctx, postgres.Options{Durability: d, MaxConns: 32, Tracer: c.trips})
	if err != nil {
		return nil, err
	}
	stages, err := labs.Build(labs.Env{Pool: db.Pool, AuditPath: o.auditPath, Fsyncs: c.fsyncs, DBTimeout: o.dbTimeout, NoAuditFsync: o.noAuditFsync}, choice)
	if err == nil {
		var srv *server.Server
		if srv, err = server.New(stages, db.Pool, server.Config{MaxBodyBytes: o.maxBody, StoreTimeout: o.dbTimeout, NoLabels: o.noLabels}); err == nil {
			sweep := sweeper(stages.Sweeper, c.swept)
			if o.sweepEvery > 0 && sweep != nil {
				go forgetKeys(ctx, sweep, o.sweepEvery)
			}
			return &service{
				handler: srv,
				sweep:   sweep,
				close: func(ctx context.Context) error {
					return errors.Join(within(ctx, "closing the stages", func() error { return labs.Close(stages) }), db.Close(ctx))
				},
				say: []string{"stages: " + choice.String(), fmt.Sprintf("audit: %s (%s)", o.auditPath, auditNote(choice, o.noAuditFsync))},
			}, nil
		}
	}
	return nil, errors.Join(err, labs.Close(stages), db.Close(context.WithoutCancel(ctx)))
}

// sweeper returns what forgets the Idempotency-Keys older than
// server.KeyRetention with s (lab 10's stage), one sweep at a time (the
// timer's and the admin port's), counting them in swept.
func sweeper(s server.Sweeper, swept *atomic.Int64) func(context.Context) (int64, error) {
	if s == nil {
		return nil
	}
	var one sync.Mutex
	return func(ctx context.Context) (int64, error) {
		one.Lock()
		defer one.Unlock()
		n, err := s.Sweep(ctx, time.Now().Add(-server.KeyRetention))
		swept.Add(n)
		return n, err
	}
}

// forgetKeys sweeps the expired Idempotency-Keys at start and then every
// interval: the table would otherwise grow with every keyed request.
func forgetKeys(ctx context.Context, sweep func(context.Context) (int64, error), every time.Duration) {
	for {
		if n, err := sweep(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("forget old idempotency keys", "err", err)
		} else if n > 0 {
			slog.Info("forgot old idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// sweepNow is POST /debug/flamelab/sweep-keys on the admin port: the key
// sweep, now, answered when it is done (an operator's "run the job", and
// how make lab-10 puts the hourly sweep in the middle of a measured leg).
func sweepNow(sweep func(context.Context) (int64, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST to run the key sweep now", http.StatusMethodNotAllowed)
			return
		}
		if sweep == nil {
			http.Error(w, "this server keeps no keys (-discard)", http.StatusNotFound)
			return
		}
		start := time.Now()
		n, err := sweep(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"swept\":%d,\"seconds\":%.3f}\n", n, time.Since(start).Seconds())
	}
}

// shutdownMargin is how long after -shutdown-timeout the process may take
// to close its stages and its database before it gives up on them and
// exits: a frozen database must not hold a shutdown hostage (pgx's pool
// close can wait 15 s per connection for a cancel request).
const shutdownMargin = 3 * time.Second

// serve runs the public and admin servers until ctx ends, then shuts down
// within o.drain + shutdownMargin.
//
// It is long on purpose: the servers' settings and the shutdown sequence, in
// order, under one deadline, read best in one place.
func serve(ctx context.Context, stop func(), o *options, svc *service) error {
	pubLn, err := net.Listen("tcp", o.addr)
	if err != nil {
		return errors.Join(fmt.Errorf("public listener: %w (is another flamelab-server running? try -addr 127.0.0.1:0)", err), svc.closeNow())
	}
	adminLn, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		pubLn.Close()
		return errors.Join(fmt.Errorf("admin listener: %w (try -admin 127.0.0.1:0)", err), svc.closeNow())
	}
	// Every handler is counted, so shutdown can wait for the last one
	// before it closes the stages they use.
	var inflight atomic.Int64
	counted := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Add(-1)
			h.ServeHTTP(w, r)
		})
	}
	pubHandler := svc.handler
	if !o.anyHost {
		pubHandler = server.LoopbackOnly(pubHandler)
	}
	if o.flightSlow > 0 {
		rec, err := startRecorder(o)
		if err != nil {
			pubLn.Close()
			adminLn.Close()
			return errors.Join(err, svc.closeNow())
		}
		defer rec.Stop()
		pubHandler = rec.Handler(pubHandler)
	}
	adminMux := http.NewServeMux()
	adminMux.Handle("/", server.Admin())
	adminMux.Handle("/debug/flamelab/sweep-keys", sweepNow(svc.sweep))
	var adminHandler http.Handler = adminMux
	if !o.allowRemote {
		adminHandler = server.LoopbackOnly(adminHandler)
	}
	public := &http.Server{
		Handler: counted(pubHandler),
		// A client may not hold a connection, or the memory of a
		// request, for as long as it likes: headers in 10 s (at most 16
		// KiB), the whole request in -read-timeout (30 s: a 1 MiB body at
		// 35 KB/s), the answer within twice the database timeout (a
		// request may wait for a batch, then for its own), and an idle
		// keep-alive connection closed after -idle-timeout.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      2*o.dbTimeout + 10*time.Second,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	// No write timeout on the admin port: a CPU profile answers after
	// its ?seconds=N.
	admin := &http.Server{Handler: counted(adminHandler), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}

	errc := make(chan error, 2)
	go func() { errc <- public.Serve(pubLn) }()
	go func() { errc <- admin.Serve(adminLn) }()

	for _, l := range svc.say {
		fmt.Fprintln(os.Stderr, l)
	}
	fmt.Fprintf(os.Stderr, "profiling: mutex fraction %d, block rate %d\n", o.mutexFrac, o.blockRate)
	fmt.Printf("flamelab-server ready: public=http://%s admin=http://%s/debug/pprof/\n", pubLn.Addr(), adminLn.Addr())

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "flamelab-server: shutting down: finishing requests in flight")
	case err := <-errc:
		return errors.Join(err, svc.closeNow())
	}
	stop() // a second Ctrl-C now kills the process

	// One deadline for the whole shutdown: requests get o.drain, closing
	// the stages and the database what is left of the margin after it.
	deadline := time.Now().Add(o.drain + shutdownMargin)
	sctx, cancel := context.WithTimeout(context.Background(), o.drain)
	defer cancel()
	err = errors.Join(public.Shutdown(sctx), admin.Shutdown(sctx))
	if errors.Is(err, context.DeadlineExceeded) {
		// Connections still busy after the bound: clients still sending
		// slowly, a long profile, or requests waiting for a database
		// that does not answer. Cut them; their requests were never
		// acknowledged, so nothing promised is lost.
		fmt.Fprintf(os.Stderr, "flamelab-server: cutting the connections still open after %s\n", o.drain)
		err = errors.Join(public.Close(), admin.Close())
	}
	// Wait for the handlers themselves (Close does not): nothing may
	// reach the stages after they are closed.
	for inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := inflight.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "flamelab-server: %d handler(s) still waiting (for the database?) at the shutdown deadline; their requests were not acknowledged\n", n)
	}
	if svc.close != nil {
		cctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		if cerr := svc.close(cctx); cerr != nil {
			// Nothing acknowledged depends on what did not close: every
			// answered request was committed and audited first.
			fmt.Fprintln(os.Stderr, "flamelab-server: closing:", cerr)
			if !errors.Is(cerr, context.DeadlineExceeded) {
				err = errors.Join(err, cerr)
			}
		}
	}
	if err == nil {
		fmt.Fprintln(os.Stderr, "flamelab-server: stopped cleanly")
	}
	return err
}

// startRecorder starts the flight recorder -flight-recorder asks for, and
// publishes its snapshot count for the runner.
func startRecorder(o *options) (*flight.Recorder, error) {
	dir := o.flightDir
	if dir == "" {
		base, err := privateDir()
		if err != nil {
			return nil, fmt.Errorf("flight recorder: %w (or pass -flight-dir)", err)
		}
		dir = filepath.Join(base, "flight")
	}
	rec, err := flight.Start(flight.Config{Slow: o.flightSlow, Dir: dir, Every: o.flightEvery})
	if err != nil {
		return nil, err
	}
	expvar.Publish("flight_snapshots", expvar.Func(func() any { return rec.Snapshots() }))
	fmt.Fprintf(os.Stderr, "flight recorder: the last %s of trace kept; a request slower than %s writes it to %s, at most once per %s\n", flight.DefaultWindow, o.flightSlow, dir, o.flightEvery)
	return rec, nil
}

// closeNow closes svc when the server could not start or stopped on an
// error, with a bound of its own.
func (svc *service) closeNow() error {
	if svc.close == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return svc.close(ctx)
}

// within runs f, and gives up waiting for it when ctx ends: f keeps
// running, but the process will not wait for it.
func within(ctx context.Context, what string, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%s: gave up at the shutdown deadline: %w", what, ctx.Err())
	}
}

// discardService is the server that does nothing: it answers POST /events
// with the answer's shape (the accepted line count, a request id) after
// reading the body to the end, and touches no stage, no database and no
// audit file. Run with the same clients and bodies as the real server, it
// is the ceiling that HTTP, the load generator and the machine allow.
// TestDiscardDoesNothing proves it on this binary.
func discardService(o *options) *service {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events", func(w http.ResponseWriter, r *http.Request) {
		var lc lineCounter
		if _, err := io.Copy(&lc, http.MaxBytesReader(w, r.Body, o.maxBody)); err != nil {
			http.Error(w, "could not read the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"accepted\":%d,\"request_id\":\"00000000-0000-0000-0000-000000000000\"}\n", lc.lines())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{\"status\":\"ok\"}\n")
	})
	return &service{handler: mux, say: []string{"stages: none: -discard, a server that only reads the bodies (no database, no audit file)"}}
}

// lineCounter counts the lines of what is written to it as the body
// readers split them: every "\n", and a last line without one.
type lineCounter struct {
	n    int
	last byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		c.n += bytes.Count(p, []byte{'\n'})
		c.last = p[len(p)-1]
	}
	return len(p), nil
}

func (c *lineCounter) lines() int {
	if c.last != 0 && c.last != '\n' {
		return c.n + 1
	}
	return c.n
}

// privateAuditPath returns audit.log in a flamelab directory only this user
// can enter: an audit trail holds what clients sent.
func privateAuditPath() (string, error) {
	dir, err := privateDir()
	if err != nil {
		return "", fmt.Errorf("audit directory: %w (or pass -audit-file)", err)
	}
	return filepath.Join(dir, "audit.log"), nil
}

// privateDir returns the flamelab directory under the user's cache
// directory, made so only this user can enter it.
func privateDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "flamelab")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o700)
}

// auditNote says what the audit trail costs, as the honesty rules ask of a
// slow dependency.
func auditNote(c labs.Choice, noFsync bool) string {
	if noFsync {
		return "EXPERIMENT: the audit file is not fsync'd; records can be lost in a crash"
	}
	audit := labs.ByStage("Auditor").Number
	switch c.Get(audit) {
	case labs.Baseline:
		return "audit disk: one fsync per request, under a global lock"
	case labs.Solution:
		return "audit disk: one fsync per batch of requests (group commit)"
	}
	return "audit disk: fsync, " + string(c.Get(audit))
}
