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
		auditPath   = flag.String("audit-file", filepath.Join(os.TempDir(), "flamelab-audit.log"), "the durable audit trail (appended, fsync'd)")
		durable     = flag.Bool("durable", true, "database with fsync on; false is faster and loses commits on a crash (never for measurements)")
		mutexFrac   = flag.Int("mutex-profile-fraction", 0, "runtime.SetMutexProfileFraction: report 1 in N mutex contention events (0: off)")
		blockRate   = flag.Int("block-profile-rate", 0, "runtime.SetBlockProfileRate: sample blocking events of at least N ns (0: off, 1: all)")
		drain       = flag.Duration("shutdown-timeout", 30*time.Second, "how long to wait for requests in flight on shutdown")
	)
	flag.Parse()

	if err := server.CheckAdminAddr(*adminAddr, *allowRemote); err != nil {
		return err
	}
	choice, err := labs.ParseChoice(*stagesSpec)
	if err != nil {
		return err
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

	fsyncs := new(atomic.Int64)
	expvar.Publish("audit_fsyncs", expvar.Func(func() any { return fsyncs.Load() }))
	stages, err := labs.Build(labs.Env{Pool: db.Pool, AuditPath: *auditPath, Fsyncs: fsyncs}, choice)
	if err != nil {
		return err
	}
	srv, err := server.New(stages, db.Pool, server.Config{MaxBodyBytes: *maxBody})
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
	public := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	admin := &http.Server{Handler: server.Admin(), ReadHeaderTimeout: 10 * time.Second}

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
	// Handlers have returned: nothing more reaches the stages.
	err = errors.Join(err, labs.Close(stages))
	if err == nil {
		fmt.Fprintln(os.Stderr, "flamelab-server: stopped cleanly")
	}
	return err
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
