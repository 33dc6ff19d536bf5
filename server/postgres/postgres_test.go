package postgres

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// inCI is set by CI systems; there, a test that cannot find its database
// fails instead of skipping, so a green CI always means the database ran.
var inCI = os.Getenv("CI") == "true"

// overlay is the real environment with some keys replaced; "" unsets a key.
func overlay(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(key string) (string, bool) {
		if v, ok := m[key]; ok {
			return v, v != ""
		}
		return os.LookupEnv(key)
	}
}

// provisionT provisions with opts and closes the database when the test ends.
func provisionT(t *testing.T, opts Options) (*Database, string) {
	t.Helper()
	var log bytes.Buffer
	opts.Log = &log
	db, err := Provision(context.Background(), opts)
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	t.Logf("provision log:\n%s", log.String())

	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := u.User.Password(); pw == "" || strings.Contains(log.String(), pw) || strings.Contains(db.Where, pw) {
		t.Errorf("the password must be set and never printed; log:\n%s", log.String())
	}
	if !strings.Contains(log.String(), db.String()) {
		t.Errorf("Provision did not print its one line %q; log:\n%s", db.String(), log.String())
	}
	return db, log.String()
}

// checkUsable runs a query against the schema the migrations made.
func checkUsable(t *testing.T, db *Database) {
	t.Helper()
	ctx := context.Background()
	tables, err := Tables(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(tables, ","), "events") {
		t.Fatalf("tables = %v, want the events table from the migrations", tables)
	}
	_, err = db.Pool.Exec(ctx, `INSERT INTO events (request_id, line, ts, user_id, path, status, latency_ms, bytes)
		VALUES (gen_random_uuid(), 1, now(), 42, '/cart', 200, 12, 512)`)
	if err != nil {
		t.Fatalf("insert into events: %v", err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE user_id = 42").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1", n, err)
	}
}

func requireDocker(t *testing.T) {
	t.Helper()
	if err := dockerReachable(context.Background()); err != nil {
		if inCI {
			t.Fatalf("CI=true but no Docker engine is reachable (%v): .ci/run must start one with scripts/docker-up.sh", err)
		}
		t.Skipf("no Docker engine reachable (%v); start one (scripts/docker-up.sh, or Docker Desktop) to run this test", err)
	}
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := findBinaries(os.Getenv); err != nil {
		if inCI {
			t.Fatalf("CI=true but %v: .ci/run runs on Debian, where they are at %s", err, binGlob)
		}
		t.Skipf("%v; install postgresql to run this test", err)
	}
}

func TestContainer(t *testing.T) {
	requireDocker(t)
	db, _ := provisionT(t, Options{Durability: Durable,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, string(SourceContainer))})

	if db.Source != SourceContainer || db.containerID == "" {
		t.Fatalf("source = %s (container %q), want a testcontainer", db.Source, db.containerID)
	}
	if !db.Fsync {
		t.Error("Durable asked for, but the container runs with fsync=off")
	}
	if !strings.Contains(db.URL, "@127.0.0.1:") {
		t.Errorf("connection must go through 127.0.0.1; Where = %s", db.Where)
	}
	checkUsable(t, db)

	ctx := context.Background()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	info, err := cli.ContainerInspect(ctx, db.containerID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for port, bindings := range info.Container.HostConfig.PortBindings {
		for _, b := range bindings {
			if !b.HostIP.IsLoopback() {
				t.Errorf("port %s published on %v; want 127.0.0.1 only", port, b.HostIP)
			}
		}
	}

	if err := db.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := cli.ContainerInspect(ctx, db.containerID, client.ContainerInspectOptions{}); err == nil {
		t.Errorf("container %.12s still exists after Close", db.containerID)
	}
}

func TestLocal(t *testing.T) {
	requireBinaries(t)
	db, _ := provisionT(t, Options{Durability: Fast,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, string(SourceLocal))})

	if db.Source != SourceLocal || db.dir == "" || db.pid == 0 {
		t.Fatalf("source = %s, want a local cluster", db.Source)
	}
	if db.Fsync {
		t.Error("Fast asked for, but the local cluster runs with fsync=on")
	}
	checkUsable(t, db)

	if err := db.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	assertLocalGone(t, db.dir, db.pid)
}

func assertLocalGone(t *testing.T, dir string, pid int) {
	t.Helper()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s still exists (stat: %v)", dir, err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postgres (pid %d) still running (kill -0: %v)", pid, err)
	}
}

func TestURL(t *testing.T) {
	requireBinaries(t)
	// A real server to point FLAMELAB_DATABASE_URL at.
	server, _ := provisionT(t, Options{Durability: Fast,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, string(SourceLocal))})

	// The URL wins even where Docker and binaries are available.
	db, _ := provisionT(t, Options{Durability: Fast, lookupEnv: overlay(EnvDatabaseURL, server.URL)})
	if db.Source != SourceURL {
		t.Fatalf("source = %s, want %s", db.Source, SourceURL)
	}
	checkUsable(t, db)
	// Migrations already ran through the first connection: running them
	// again must change nothing and fail nothing.
	if err := Migrate(context.Background(), db.Pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}

	// Close leaves a database it did not start running.
	if err := db.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := server.Pool.Ping(context.Background()); err != nil {
		t.Fatalf("closing the URL database stopped the server behind it: %v", err)
	}
}

// wantAllOptions checks that err names the three ways to get a database.
func wantAllOptions(t *testing.T, err error) {
	t.Helper()
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an *UnavailableError", err)
	}
	for _, want := range []string{EnvDatabaseURL, "Docker", "scripts/docker-up.sh", "build-pg-image.sh", "apt-get install postgresql", EnvBinDir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message does not mention %q:\n%s", want, err)
		}
	}
}

func TestNothingAvailable(t *testing.T) {
	bare := &probes{
		docker:   func(context.Context) error { return errors.New("Cannot connect to the Docker daemon") },
		binaries: func(func(string) string) (string, error) { return "", errors.New("no initdb") },
	}
	_, err := Provision(context.Background(), Options{Durability: Fast, probes: bare,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, "")})
	wantAllOptions(t, err)
	if !strings.Contains(err.Error(), "Cannot connect to the Docker daemon") || !strings.Contains(err.Error(), "no initdb") {
		t.Errorf("message does not say what was tried:\n%s", err)
	}
}

// The same path with the real probes: Docker skipped by FLAMELAB_DB_SOURCE,
// binaries looked for in an empty directory.
func TestNothingAvailableReal(t *testing.T) {
	_, err := Provision(context.Background(), Options{Durability: Fast,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, string(SourceLocal), EnvBinDir, t.TempDir())})
	wantAllOptions(t, err)
}

func TestDurabilityMustBeChosen(t *testing.T) {
	_, err := Provision(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "Durability") {
		t.Fatalf("err = %v, want one that asks for Options.Durability", err)
	}
}

func TestBadSource(t *testing.T) {
	_, err := Provision(context.Background(), Options{Durability: Fast,
		lookupEnv: overlay(EnvDatabaseURL, "", EnvSource, "kubernetes")})
	if err == nil || !strings.Contains(err.Error(), EnvSource) {
		t.Fatalf("err = %v, want one naming %s", err, EnvSource)
	}
}

// TestInterrupt proves Ctrl-C removes what Provision started: a child
// process (this test binary, see TestMain) provisions with CloseOnInterrupt,
// gets SIGINT, and must leave no container or cluster behind.
func TestInterrupt(t *testing.T) {
	for _, src := range []Source{SourceLocal, SourceContainer} {
		t.Run(string(src), func(t *testing.T) {
			if src == SourceLocal {
				requireBinaries(t)
			} else {
				requireDocker(t)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+string(src), EnvDatabaseURL+"=")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()

			// The helper prints "container ID" or "local DIR PID" when ready.
			line := make(chan string, 1)
			go func() {
				buf := make([]byte, 512)
				n, _ := out.Read(buf)
				line <- strings.TrimSpace(string(buf[:n]))
			}()
			var ready string
			select {
			case ready = <-line:
			case <-time.After(60 * time.Second):
				t.Fatal("helper did not provision within 60s")
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Errorf("helper exited with %v; want it ended by SIGINT", err)
			}

			f := strings.Fields(ready)
			switch {
			case len(f) == 2 && f[0] == "container":
				cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer cli.Close()
				if _, err := cli.ContainerInspect(context.Background(), f[1], client.ContainerInspectOptions{}); err == nil {
					t.Errorf("container %.12s survived SIGINT", f[1])
				}
			case len(f) == 3 && f[0] == "local":
				pid, _ := strconv.Atoi(f[2])
				assertLocalGone(t, f[1], pid)
			default:
				t.Fatalf("helper said %q", ready)
			}
		})
	}
}

const helperEnv = "FLAMELAB_TEST_INTERRUPT_HELPER"

func TestMain(m *testing.M) {
	if src := os.Getenv(helperEnv); src != "" {
		interruptHelper(Source(src))
		return
	}
	os.Exit(m.Run())
}

// interruptHelper provisions, says what it started, and waits to be killed.
func interruptHelper(src Source) {
	db, err := Provision(context.Background(), Options{Durability: Fast, CloseOnInterrupt: true,
		Log: os.Stderr, lookupEnv: overlay(EnvSource, string(src))})
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	if db.Source == SourceContainer {
		os.Stdout.WriteString("container " + db.containerID + "\n")
	} else {
		os.Stdout.WriteString("local " + db.dir + " " + strconv.Itoa(db.pid) + "\n")
	}
	select {}
}
