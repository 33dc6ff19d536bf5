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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flamelab-server:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr        = flag.String("addr", "127.0.0.1:8080", "public listen address")
		adminAddr   = flag.String("admin", "127.0.0.1:6060", "admin (pprof, fgprof) listen address; loopback only unless -admin-allow-remote")
		allowRemote = flag.Bool("admin-allow-remote", false, "allow -admin on a non-loopback address (profiles expose the code)")
		stagesSpec  = flag.String("stages", "all=baseline", "implementation per lab: LAB=IMPL pairs, e.g. all=baseline,6=solution")
		maxBody     = flag.Int64("max-body", server.DefaultMaxBodyBytes, "largest POST /events body in bytes")
		auditPath   = flag.String("audit-file", "", "the durable audit trail (appended, fsync'd; mode 0600, never through a symlink); default audit.log in a private (0700) flamelab directory under the user's cache directory")
		durable     = flag.Bool("durable", true, "database with fsync on; false is faster and loses commits on a crash (never for measurements)")
		mutexFrac   = flag.Int("mutex-profile-fraction", 0, "runtime.SetMutexProfileFraction: report 1 in N mutex contention events (0: off)")
		blockRate   = flag.Int("block-profile-rate", 0, "runtime.SetBlockProfileRate: sample blocking events of at least N ns (0: off, 1: all)")
		drain       = flag.Duration("shutdown-timeout", 10*time.Second, "on shutdown, how long requests in flight may take before their connections are cut")
		dbTimeout   = flag.Duration("db-timeout", server.DefaultStoreTimeout, "how long a request, or a batch, may wait for the database")
		readTimeout = flag.Duration("read-timeout", 30*time.Second, "the most a client may take to send a request, body included")
		idleTimeout = flag.Duration("idle-timeout", 30*time.Second, "how long an idle keep-alive connection stays open")
		discard     = flag.Bool("discard", false, "answer POST /events without doing anything but read the body: the machine's HTTP ceiling for the same load (make capstone)")
		anyHost     = flag.Bool("allow-any-host", false, "serve any Host and cross-site Origin on the public port (off: loopback names only; see server.LoopbackOnly)")
	)
	flag.Parse()

	if err := server.CheckAdminAddr(*adminAddr, *allowRemote); err != nil {
		return err
	}
	choice, err := labs.ParseChoice(*stagesSpec)
	if err != nil {
		return err
	}
	if *auditPath == "" {
		if *auditPath, err = privateAuditPath(); err != nil {
			return err
		}
	}
	runtime.SetMutexProfileFraction(*mutexFrac)
	runtime.SetBlockProfileRate(*blockRate)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := postgres.Durable
	if !*durable {
		d = postgres.Fast
	}
	// Every database round trip is counted and published on the admin
	// port (/debug/vars, "db_round_trips"): the lab runner reports it per
	// request.
	trips := &postgres.RoundTrips{}
	expvar.Publish("db_round_trips", expvar.Func(func() any { return trips.Total() }))
	db, err := postgres.Provision(ctx, postgres.Options{Durability: d, MaxConns: 32, Tracer: trips})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := db.Close(cctx); err != nil {
			slog.Error("close database", "err", err)
		}
	}()

	server.PublishSchedStats()
	fsyncs := new(atomic.Int64)
	expvar.Publish("audit_fsyncs", expvar.Func(func() any { return fsyncs.Load() }))
	stages, err := labs.Build(labs.Env{Pool: db.Pool, AuditPath: *auditPath, Fsyncs: fsyncs, DBTimeout: *dbTimeout}, choice)
	if err != nil {
		return err
	}
	srv, err := server.New(stages, db.Pool, server.Config{MaxBodyBytes: *maxBody, StoreTimeout: *dbTimeout})
	if err != nil {
		return err
	}

	pubLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("public listener: %w (is another flamelab-server running? try -addr 127.0.0.1:0)", err)
	}
	adminLn, err := net.Listen("tcp", *adminAddr)
	if err != nil {
		pubLn.Close()
		return fmt.Errorf("admin listener: %w (try -admin 127.0.0.1:0)", err)
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
	var pubHandler http.Handler = srv
	if *discard {
		pubHandler = discardHandler()
	}
	if !*anyHost {
		pubHandler = server.LoopbackOnly(srv)
	}
	adminHandler := server.Admin()
	if !*allowRemote {
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
		ReadTimeout:       *readTimeout,
		WriteTimeout:      2**dbTimeout + 10*time.Second,
		IdleTimeout:       *idleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	// No write timeout on the admin port: a CPU profile answers after
	// its ?seconds=N.
	admin := &http.Server{Handler: counted(adminHandler), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, MaxHeaderBytes: 16 << 10}

	// Idempotency keys are kept server.KeyRetention, then forgotten: the
	// table would otherwise grow with every keyed request.
	go func() {
		for {
			if n, err := postgres.ForgetKeys(ctx, db.Pool, server.KeyRetention); err != nil && ctx.Err() == nil {
				slog.Warn("forget old idempotency keys", "err", err)
			} else if n > 0 {
				slog.Info("forgot old idempotency keys", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Hour):
			}
		}
	}()

	errc := make(chan error, 2)
	go func() { errc <- public.Serve(pubLn) }()
	go func() { errc <- admin.Serve(adminLn) }()

	fmt.Fprintf(os.Stderr, "stages: %s\n", choice)
	fmt.Fprintf(os.Stderr, "audit: %s (%s)\n", *auditPath, auditNote(choice))
	fmt.Fprintf(os.Stderr, "profiling: mutex fraction %d, block rate %d\n", *mutexFrac, *blockRate)
	fmt.Printf("flamelab-server ready: public=http://%s admin=http://%s/debug/pprof/\n", pubLn.Addr(), adminLn.Addr())

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "flamelab-server: shutting down: finishing requests in flight")
	case err := <-errc:
		return err
	}
	stop() // a second Ctrl-C now kills the process

	sctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	err = errors.Join(public.Shutdown(sctx), admin.Shutdown(sctx))
	if errors.Is(err, context.DeadlineExceeded) {
		// Connections still busy after the bound: clients still sending
		// slowly, or a long profile. Cut them; their requests were never
		// acknowledged, so nothing promised is lost.
		fmt.Fprintf(os.Stderr, "flamelab-server: cutting the connections still open after %s\n", *drain)
		err = errors.Join(public.Close(), admin.Close())
	}
	// Wait for the handlers themselves (Close does not), bounded by the
	// write timeout: nothing may reach the stages after they are closed.
	for deadline := time.Now().Add(public.WriteTimeout); inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	err = errors.Join(err, labs.Close(stages))
	if err == nil {
		fmt.Fprintln(os.Stderr, "flamelab-server: stopped cleanly")
	}
	return err
}

// discardHandler reads every request's body to the end and answers as POST
// /events would, doing nothing else: the ceiling the HTTP layer, the load
// generator and the machine allow for the same requests.
func discardHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"accepted\":%d,\"request_id\":\"00000000-0000-0000-0000-000000000000\"}\n", n)
	})
}

// privateAuditPath returns audit.log in a flamelab directory only this user
// can enter: an audit trail holds what clients sent.
func privateAuditPath() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "flamelab")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("audit directory: %w (or pass -audit-file)", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("audit directory: %w (or pass -audit-file)", err)
	}
	return filepath.Join(dir, "audit.log"), nil
}

// auditNote says what the audit trail costs, as the honesty rules ask of a
// slow dependency.
func auditNote(c labs.Choice) string {
	switch c.Get(5) {
	case labs.Baseline:
		return "audit disk: one fsync per request, under a global lock"
	case labs.Solution:
		return "audit disk: one fsync per batch of requests (group commit)"
	}
	return "audit disk: fsync, " + string(c.Get(5))
}
