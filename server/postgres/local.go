//go:build unix

package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// binGlob is where Debian and Ubuntu install server binaries; they are not
// on PATH there.
const binGlob = "/usr/lib/postgresql/*/bin"

// findBinaries returns a directory holding initdb and postgres:
// FLAMELAB_PG_BIN, else the directory of initdb on PATH, else the newest
// /usr/lib/postgresql/N/bin.
func findBinaries(env func(string) string) (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := env(EnvBinDir); dir != "" {
		if !has(dir) {
			return "", fmt.Errorf("%s=%s holds no initdb and postgres", EnvBinDir, dir)
		}
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// Follow symlinks so postgres is looked for beside the real initdb,
		// and so the log names the installation actually used.
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob(binGlob)
	// Newest major version first: /usr/lib/postgresql/16 before .../9.6.
	slices.SortFunc(dirs, func(a, b string) int {
		return versionOf(b) - versionOf(a)
	})
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	return "", errors.New("no Postgres server binaries (initdb, postgres) on PATH or in " + binGlob)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(strings.SplitN(filepath.Base(filepath.Dir(binDir)), ".", 2)[0])
	return v
}

// runAs returns the credentials to run Postgres with. Postgres refuses to
// run as root, so root hands the cluster to the postgres user (or nobody).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and there is neither a postgres nor a nobody user to run Postgres as; create one (useradd --system postgres)")
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

const (
	localPrefix = "flamelab-pg-" // in os.TempDir()
	ownerFile   = "owner.pid"
)

// SweepLocal removes the throwaway clusters whose owner is gone: a flamelab
// process killed with kill -9 cannot remove its own (Pdeathsig still stops
// its postgres). It returns how many it removed; make clean-db runs it, and so
// does every start of a local cluster.
func SweepLocal() (int, error) {
	dirs, err := filepath.Glob(filepath.Join(os.TempDir(), localPrefix+"*"))
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, dir := range dirs {
		owner, err1 := pidIn(filepath.Join(dir, ownerFile))
		pg, err2 := pidIn(filepath.Join(dir, "data", "postmaster.pid"))
		if err1 != nil || alive(owner) || (err2 == nil && alive(pg)) {
			continue // in use, or not ours to judge
		}
		if err := os.RemoveAll(dir); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}

// pidIn reads the pid on the first line of path.
func pidIn(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// alive reports whether process pid exists (signal 0 checks without
// sending anything).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// startLocal makes a throwaway cluster with initdb in a temporary directory
// and runs postgres on a free 127.0.0.1 port as a child process.
//
// It is long on purpose: each step of starting a cluster as another user
// (directory, initdb, the postmaster, readiness) has its own cleanup on
// failure, in order, and splitting them would spread that cleanup over
// functions.
func startLocal(ctx context.Context, opts *Options, bin string) (db *Database, err error) {
	started := time.Now()
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	if n, err := SweepLocal(); err == nil && n > 0 {
		fmt.Fprintf(opts.log(), "database: removed %d throwaway cluster(s) left by processes that are gone\n", n)
	}
	dir, err := os.MkdirTemp("", localPrefix)
	if err != nil {
		return nil, err
	}
	// The owner's pid, so SweepLocal can tell a cluster left by a killed
	// process from one in use.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(opts.log(), "database: starting a throwaway local cluster with %s...\n", bin)

	password := randomPassword()
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		return nil, err
	}
	if cred != nil {
		_ = os.Chown(pwfile, int(cred.Uid), int(cred.Gid))
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", dbUser, "--pwfile", pwfile, "--auth=scram-sha-256",
		"--encoding=UTF8", "--no-locale",
		// The cluster is thrown away; syncing its catalog files at creation
		// buys nothing. Commits are governed by Durability, not by this.
		"--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	os.Remove(pwfile)

	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := append([]string{"-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1"}, opts.Durability.settings()...)
	// Not CommandContext: the cluster outlives this call and is stopped by
	// Close, with a fast shutdown rather than a kill.
	pg := exec.Command(filepath.Join(bin, "postgres"), args...)
	pg.Stdout, pg.Stderr = logFile, logFile
	pg.SysProcAttr = childAttr(cred)
	if err := pg.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { pg.Wait(); close(exited) }()

	stop := func(context.Context) error {
		// SIGINT is Postgres' "fast" shutdown: roll back, disconnect, exit.
		_ = pg.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = pg.Process.Kill()
			<-exited
		}
		return os.RemoveAll(dir)
	}
	defer func() {
		if err != nil {
			stop(ctx)
		}
	}()

	adminURL := buildURL("127.0.0.1", port, dbUser, password, "postgres")
	if err := waitReady(ctx, adminURL, exited, logPath); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+dbName)
	conn.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", dbName, err)
	}
	fmt.Fprintf(opts.log(), "database: local cluster (pid %d) ready in %s\n", pg.Process.Pid, time.Since(started).Round(10*time.Millisecond))
	return &Database{
		URL:    buildURL("127.0.0.1", port, dbUser, password, dbName),
		Source: SourceLocal,
		Where: fmt.Sprintf("local cluster in %s (%s, pid %d) at %s", dir, bin, pg.Process.Pid,
			describe("127.0.0.1", uint16(port), dbUser, dbName)),
		stop: stop,
		dir:  dir,
		pid:  pg.Process.Pid,
	}, nil
}

// waitReady polls until the server accepts a connection, the process exits,
// or 30 seconds pass.
func waitReady(ctx context.Context, url string, exited <-chan struct{}, logPath string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, url)
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited during start-up; its log:\n%s", log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 30s: %w", err)
		}
	}
}
