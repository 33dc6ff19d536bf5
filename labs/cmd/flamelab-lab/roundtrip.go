package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

// roundtrip runs make roundtrip: what one database round trip costs on
// each database this machine can start (a testcontainer through its
// published port, a local cluster over loopback TCP), one after the other.
// Lab 7's gain is round trips saved, so it scales with this figure.
func roundtrip(args []string) error {
	fs := flag.NewFlagSet("roundtrip", flag.ExitOnError)
	n := fs.Int("n", 1000, "round trips timed per database")
	validate := fs.Bool("validate", false, "check the flags, then stop")
	fs.Parse(args)
	if *validate {
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Only databases this command starts and removes: a URL of yours is
	// measured by make lab-7, which prints the same line.
	os.Unsetenv(postgres.EnvDatabaseURL)
	measured := 0
	for _, src := range []postgres.Source{postgres.SourceContainer, postgres.SourceLocal} {
		os.Setenv(postgres.EnvSource, string(src))
		db, err := postgres.Provision(ctx, postgres.Options{Durability: postgres.Durable, Log: os.Stderr, CloseOnInterrupt: true})
		if err != nil {
			fmt.Printf("%-9s not measured: %v\n", src, firstLine(err))
			continue
		}
		rt, err := runner.MeasureRoundTrip(ctx, db.Pool, *n)
		db.Close(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		measured++
		fmt.Printf("%-9s %s\n          (%s)\n", src, rt, db.Where)
	}
	if measured == 0 {
		return fmt.Errorf("no database could be started (see docs/database.md)")
	}
	return nil
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
