// Command flamedb provisions the database flamelab uses and checks it.
//
// With no flags it is the smoke check that make setup runs: it finds or
// starts a database (see package postgres for the order), applies the
// migrations, shows the tables, and removes what it started.
//
// With -clean it removes the throwaway local clusters whose owner process is
// gone (make clean-db).
//
// With -images it prints the default and offline image names, one source of
// truth for scripts/setup.sh.
//
// With -hold it keeps the database until Ctrl-C and prints its URL, so you can
// point psql or another flamelab process at it:
//
//	go run ./server/cmd/flamedb -hold
//	export FLAMELAB_DATABASE_URL=...   # the printed URL
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/server/postgres"
)

func main() {
	hold := flag.Bool("hold", false, "keep the database until Ctrl-C and print its URL")
	durable := flag.Bool("durable", true, "fsync on (as for measurements); false starts a faster, non-durable database")
	images := flag.Bool("images", false, "print the default and the offline image names, and exit (for scripts)")
	clean := flag.Bool("clean", false, "remove the throwaway local clusters whose owner process is gone, and exit (make clean-db)")
	flag.Parse()

	if *clean {
		n, err := postgres.SweepLocal()
		if err != nil {
			fmt.Fprintln(os.Stderr, "flamedb:", err)
			os.Exit(1)
		}
		fmt.Printf("removed %d leftover local cluster(s) from %s\n", n, os.TempDir())
		return
	}

	if *images {
		fmt.Println(postgres.DefaultImage, postgres.LocalImage)
		return
	}

	if err := run(*hold, *durable); err != nil {
		fmt.Fprintln(os.Stderr, "flamedb:", err)
		os.Exit(1)
	}
}

func run(hold, durable bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := postgres.Fast
	if durable {
		d = postgres.Durable
	}
	started := time.Now()
	db, err := postgres.Provision(ctx, postgres.Options{Durability: d})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := db.Close(cctx); err != nil {
			fmt.Fprintln(os.Stderr, "flamedb: close:", err)
		}
	}()

	tables, err := postgres.Tables(ctx, db.Pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "flamedb: ready in %s; tables: %v\n", time.Since(started).Round(10*time.Millisecond), tables)

	if !hold {
		fmt.Fprintln(os.Stderr, "flamedb: smoke check passed")
		return nil
	}
	fmt.Println(db.URL)
	fmt.Fprintln(os.Stderr, "flamedb: holding the database; Ctrl-C removes it")
	<-ctx.Done()
	return nil
}
