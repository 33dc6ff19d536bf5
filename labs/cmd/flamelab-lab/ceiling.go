package main

import (
	"context"
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

// ceiling runs make ceiling: the load generator against the server that
// does nothing, the instrument measured before the server.
func ceiling(args []string) error {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	var (
		legs     = fs.Int("legs", 3, "legs measured")
		requests = fs.Int("requests", 30_000, "requests per leg (the do-nothing server serves thousands a second: a few seconds' worth)")
		workers  = fs.Int("workers", 32, "concurrent clients, as in make lab-N")
		lines    = fs.Int("lines", 50, "access-log lines per request, as in make lab-N")
		cpuprof  = fs.String("cpuprofile", "", "write the load generator's own CPU profile here (go tool pprof -top FILE: what the instrument spends its CPU on)")
		validate = fs.Bool("validate", false, "check the flags, then stop")
	)
	fs.Parse(args)
	if *validate {
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "flamelab-ceiling-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "flamelab-server")
	if err := labs.BuildServer(ctx, bin, labs.Choice{}); err != nil {
		return err
	}
	// A database, though the do-nothing server never touches it: every
	// leg proves that, by counting its rows.
	db, err := postgres.Provision(ctx, postgres.Options{Durability: postgres.Durable, CloseOnInterrupt: true})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	spec := load.Spec{Mode: load.Capacity, Requests: *requests, Warmup: 500, Workers: *workers, Lines: *lines, Seed: 1, Limit: 3 * time.Minute}
	bench := &runner.Bench{ServerBin: bin, DB: db, OutDir: dir, Progress: os.Stderr}
	ce, err := bench.Ceiling(ctx, spec, *legs)
	if err != nil {
		return err
	}
	ce.WriteText(os.Stdout)
	return nil
}
