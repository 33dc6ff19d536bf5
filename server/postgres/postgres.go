// Package postgres provides the Postgres database that the flamelab server,
// the lab runner and the tests run against.
//
// Provision finds a database in this order and says which one it used:
//
//  1. FLAMELAB_DATABASE_URL is set: that database is used as it is.
//  2. A Docker engine answers: a throwaway Postgres testcontainer, its port
//     published on 127.0.0.1 only. The image is FLAMELAB_PG_IMAGE, else the
//     official DefaultImage if Docker has it, else LocalImage (built offline by
//     scripts/build-pg-image.sh) if Docker has that, else DefaultImage (pulled).
//  3. Postgres server binaries exist (FLAMELAB_PG_BIN, PATH, or
//     /usr/lib/postgresql/*/bin): a throwaway cluster in a temporary
//     directory, listening on a free 127.0.0.1 port.
//
// If none of these works, Provision returns an *UnavailableError whose message
// names all three options and how to get each.
//
// Setting FLAMELAB_DB_SOURCE to "container" or "local" skips the detection and
// uses that source only.
//
// Durability is the caller's explicit choice (see Durability): measurements of
// anything that commits need fsync on, while correctness tests run faster
// without it. The testcontainers postgres module turns fsync off unless told
// otherwise, so this package always says which mode is in force.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Environment variables read by Provision. FLAMELAB_DEBUG=1 also shows
// testcontainers' own log.
const (
	EnvDatabaseURL = "FLAMELAB_DATABASE_URL"
	EnvImage       = "FLAMELAB_PG_IMAGE"
	EnvBinDir      = "FLAMELAB_PG_BIN"
	EnvSource      = "FLAMELAB_DB_SOURCE"
)

// DefaultImage is the official Postgres image used when FLAMELAB_PG_IMAGE is
// unset and no local build is present. Pinned by tag so every participant
// measures the same server.
const DefaultImage = "postgres:18.1-bookworm"

// LocalImage is the image that scripts/build-pg-image.sh builds from Debian's
// archive, for machines that cannot reach a container registry.
const LocalImage = "flamelab/postgres:15-bookworm"

// Source says where a Database came from.
type Source string

// The sources, in the order Provision tries them.
const (
	SourceURL       Source = "url"
	SourceContainer Source = "container"
	SourceLocal     Source = "local"
)

// Durability is whether a commit survives a power cut. It has no usable zero
// value on purpose: every caller says which one it wants.
type Durability int

const (
	_ Durability = iota
	// Durable keeps Postgres' defaults: fsync=on, synchronous_commit=on. Use it
	// for every measurement that involves commits; anything else measures a
	// database that would lose acknowledged data.
	Durable
	// Fast turns off fsync, synchronous_commit and full_page_writes. Use it
	// only for correctness tests, where speed of the suite matters and a crash
	// of the throwaway database loses nothing of value.
	Fast
)

func (d Durability) String() string {
	switch d {
	case Durable:
		return "durable (fsync=on)"
	case Fast:
		return "fast (fsync=off)"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// settings returns the server settings for d, as postgres -c arguments.
func (d Durability) settings() []string {
	if d == Fast {
		return []string{"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
	}
	return []string{"-c", "fsync=on", "-c", "synchronous_commit=on"}
}

// Options configure Provision.
type Options struct {
	// Durability is required: Durable for measurements, Fast for tests.
	Durability Durability

	// Log receives the one line that says which database is in use, and
	// progress while one starts. Nil means os.Stderr.
	Log io.Writer

	// CloseOnInterrupt makes SIGINT and SIGTERM close the database (stop the
	// container or cluster and delete its files) before the process exits.
	// Set it in programs that do not handle those signals themselves, such as
	// tests and one-shot tools; a server that shuts down gracefully should
	// leave it false and call Close itself.
	CloseOnInterrupt bool

	// MaxConns is the pool size of Database.Pool. Zero means pgxpool's default.
	MaxConns int32

	// Tracer, if set, counts the pool's round trips (see RoundTrips).
	Tracer *RoundTrips

	// lookupEnv and probes replace the real environment in tests.
	lookupEnv func(string) (string, bool)
	probes    *probes
}

func (o *Options) log() io.Writer {
	if o.Log == nil {
		return os.Stderr
	}
	return o.Log
}

func (o *Options) env(key string) string {
	if o.lookupEnv != nil {
		v, _ := o.lookupEnv(key)
		return v
	}
	return os.Getenv(key)
}

// Database is a provisioned, migrated Postgres database.
type Database struct {
	// URL is the connection string, password included. Do not print it; use
	// Database.String.
	URL string
	// Source is where the database came from.
	Source Source
	// Where describes the database for people: image or binaries, address,
	// database name. It never contains the password.
	Where string
	// Fsync is the server's fsync setting as the server reports it.
	Fsync bool
	// Pool is a connection pool to the database, closed by Close.
	Pool *pgxpool.Pool

	closeOnce sync.Once
	closeErr  error
	stop      func(context.Context) error // stops what Provision started; nil for SourceURL
	unwatch   func()

	// What Provision started, for tests that prove Close removed it.
	containerID string // SourceContainer
	dir         string // SourceLocal: the cluster's temporary directory
	pid         int    // SourceLocal: the postmaster
	// SourceContainer: the host's pid of the container's first process.
	hostPID func(context.Context) (int, error)
}

// String is the one line Provision prints: the source, where it is and
// whether commits are durable. It never contains the password.
func (db *Database) String() string {
	fsync := "fsync=off: commits are NOT durable"
	if db.Fsync {
		fsync = "fsync=on: commits are durable"
	}
	return fmt.Sprintf("database: %s (%s)", db.Where, fsync)
}

// Close closes the pool and removes whatever Provision started: the container
// or the temporary cluster and its files. A database given by
// FLAMELAB_DATABASE_URL is left running. Close is safe to call more than once.
func (db *Database) Close(ctx context.Context) error {
	db.closeOnce.Do(func() {
		if db.unwatch != nil {
			db.unwatch()
		}
		stopCtx := ctx
		if db.Pool != nil {
			// pgxpool's Close waits for every connection, and one stuck
			// in a cancel request to a database that does not answer
			// waits 15 s: ctx bounds the wait, the process does not.
			closed := make(chan struct{})
			go func() { db.Pool.Close(); close(closed) }()
			select {
			case <-closed:
			case <-ctx.Done():
				db.closeErr = fmt.Errorf("close the pool to %s: gave up waiting for its connections: %w", db.Where, ctx.Err())
				// Still remove what Provision started, briefly.
				var cancel context.CancelFunc
				stopCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
			}
		}
		if db.stop != nil {
			db.closeErr = errors.Join(db.closeErr, db.stop(stopCtx))
		}
	})
	return db.closeErr
}

// UnavailableError is returned when no database can be had. Its message names
// every option and how to get it.
type UnavailableError struct {
	// Tried holds why each source was not used.
	Tried []error
}

func (e *UnavailableError) Error() string {
	var b strings.Builder
	b.WriteString("no Postgres database available. flamelab needs one of:\n")
	b.WriteString("  1. an existing database: export " + EnvDatabaseURL + "=postgres://user:pass@127.0.0.1:5432/db\n")
	b.WriteString("  2. a Docker engine, for a Postgres testcontainer: start Docker (as root on Debian: scripts/docker-up.sh);\n")
	b.WriteString("     without a registry, build the image with scripts/build-pg-image.sh (make setup does both)\n")
	b.WriteString("  3. Postgres server binaries, for a throwaway local cluster: apt-get install postgresql (Debian/Ubuntu),\n")
	b.WriteString("     brew install postgresql (macOS), or point " + EnvBinDir + " at the directory holding initdb and postgres\n")
	if len(e.Tried) > 0 {
		b.WriteString("what was tried:")
		for _, err := range e.Tried {
			b.WriteString("\n  - " + err.Error())
		}
	}
	return b.String()
}

// probes find the sources; tests replace them to simulate a bare machine.
type probes struct {
	docker   func(ctx context.Context) error
	binaries func(env func(string) string) (string, error)
}

var realProbes = probes{docker: dockerReachable, binaries: findBinaries}

// Provision returns a migrated database from the first source that works (see
// the package documentation), and prints one line saying which. Callers must
// Close it.
func Provision(ctx context.Context, opts Options) (*Database, error) {
	if opts.Durability != Durable && opts.Durability != Fast {
		return nil, errors.New("postgres.Provision: set Options.Durability to Durable (for measurements) or Fast (for correctness tests)")
	}
	p := realProbes
	if opts.probes != nil {
		p = *opts.probes
	}

	db, err := provision(ctx, &opts, p)
	if err != nil {
		return nil, err
	}
	if err := db.connect(ctx, &opts); err != nil {
		_ = db.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if opts.CloseOnInterrupt {
		db.unwatch = closeOnInterrupt(db)
	}
	fmt.Fprintln(opts.log(), db)
	return db, nil
}

func provision(ctx context.Context, opts *Options, p probes) (*Database, error) {
	if u := opts.env(EnvDatabaseURL); u != "" {
		return fromURL(u)
	}
	var tried []error
	only := Source(opts.env(EnvSource))
	switch only {
	case "", SourceContainer, SourceLocal:
	default:
		return nil, fmt.Errorf("%s=%q: want %q or %q (or unset, to detect)", EnvSource, only, SourceContainer, SourceLocal)
	}

	if only == "" || only == SourceContainer {
		if err := p.docker(ctx); err != nil {
			tried = append(tried, fmt.Errorf("testcontainer: no Docker engine reachable: %w", err))
		} else {
			return startContainer(ctx, opts)
		}
	}
	if only == "" || only == SourceLocal {
		bin, err := p.binaries(opts.env)
		if err != nil {
			tried = append(tried, fmt.Errorf("local cluster: %w", err))
		} else {
			return startLocal(ctx, opts, bin)
		}
	}
	return nil, &UnavailableError{Tried: tried}
}

func fromURL(raw string) (*Database, error) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid Postgres URL: %w", EnvDatabaseURL, err)
	}
	return &Database{
		URL:    raw,
		Source: SourceURL,
		Where:  fmt.Sprintf("%s from %s", describe(cfg.Host, cfg.Port, cfg.User, cfg.Database), EnvDatabaseURL),
	}, nil
}

func describe(host string, port uint16, user, database string) string {
	return fmt.Sprintf("%s@%s:%d/%s", user, host, port, database)
}

// buildURL makes a URL for a loopback server; the password is escaped.
func buildURL(host string, port int, user, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     fmt.Sprintf("%s:%d", host, port),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// connect opens the pool, waits until the server answers, applies the
// migrations and reads the fsync setting.
func (db *Database) connect(ctx context.Context, opts *Options) error {
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return fmt.Errorf("parse database URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open pool to %s: %w", db.Where, err)
	}
	db.Pool = pool

	pingCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		return fmt.Errorf("connect to %s: %w", db.Where, err)
	}
	if err := Migrate(ctx, pool); err != nil {
		return err
	}
	var fsync string
	if err := pool.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		return fmt.Errorf("read fsync setting: %w", err)
	}
	db.Fsync = fsync == "on"
	if opts.Durability == Durable && !db.Fsync {
		fmt.Fprintf(opts.log(), "WARNING: durable commits were asked for, but %s runs with fsync=off; measurements of commits will be too optimistic\n", db.Where)
	}
	return nil
}
