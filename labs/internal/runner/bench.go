package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/jackc/pgx/v5"

	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres"
)

// Bench is the engine every measurement runs on: a built flamelab-server,
// a database, and where the artefacts go. Its methods run one step each;
// what varies between steps (the load, what else is measured) is an
// argument, so a step never changes the bench under another.
type Bench struct {
	ServerBin string // a built flamelab-server
	DB        *postgres.Database
	OutDir    string    // profiles/<run>/<timestamp>: profiles, reports, audit files
	Progress  io.Writer // progress lines; nil for none
	Commit    string    // the code measured (git describe), for the reports

	started time.Time // of the first progress line: the elapsed times count from it
}

// In returns a copy of b that writes its artefacts to dir; its progress
// lines count the time from b's start.
func (b *Bench) In(dir string) *Bench {
	if b.started.IsZero() {
		b.started = time.Now()
	}
	c := *b
	c.OutDir = dir
	return &c
}

// Work is what one leg sends, and what it measures beside the server's own
// counters.
type Work struct {
	Load  load.Spec // Target is filled in per leg
	Reads int       // GET /users/{id}/events requests per leg, after the writes; 0: none; -1: as many as the writes
	// StatsReaders: this many GET /stats clients in a loop, and one slow
	// one, beside the ingest load; 0: none.
	StatsReaders int
	// ProcessCPU: also measure the CPU per request of the server, Postgres
	// and the load generator (from /proc), to say what limits each side.
	ProcessCPU bool
	// SweepKeys: before each leg, this many Idempotency-Keys a day old in
	// the requests table, and the server's key sweep started a third of
	// the way into the leg's measured requests (and into each profiled
	// leg's window) by its admin port: the hourly sweep, put where it can
	// be measured (lab 10). The server's own timer is off. 0: none.
	SweepKeys int
}

// Progressf prints a progress line with the time since the bench's first
// step.
func (b *Bench) Progressf(format string, args ...any) {
	// The first line is always written before any leg starts a goroutine
	// that writes one, so this needs no lock.
	if b.started.IsZero() {
		b.started = time.Now()
	}
	if b.Progress != nil {
		fmt.Fprintf(b.Progress, format+" [%s elapsed]\n", append(args, time.Since(b.started).Round(time.Second))...)
	}
}

// Fresh empties the events and requests tables.
func (b *Bench) Fresh(ctx context.Context) error {
	// Every leg starts from empty tables, so no leg pays for another's rows.
	_, err := b.DB.Pool.Exec(ctx, "TRUNCATE events, requests")
	return err
}

// seedKeys fills the requests table with n Idempotency-Keys stored over an
// hour a day ago (25 to 24 hours ago), all past their retention: the hour
// of keys the hourly sweep finds. Then it checkpoints, so the leg does
// not pay for flushing the pages the seeding dirtied.
func (b *Bench) seedKeys(ctx context.Context, n int) error {
	_, err := b.DB.Pool.Exec(ctx, `INSERT INTO requests (idempotency_key, request_id, body_sha256, accepted, created_at)
		SELECT 'day-old-' || g, gen_random_uuid(), '\x00'::bytea, 1, now() - interval '25 hours' + g * interval '1 hour' / $1::int
		FROM generate_series(1, $1::int) g`, n)
	if err == nil {
		_, err = b.DB.Pool.Exec(ctx, "CHECKPOINT")
	}
	if err != nil {
		return fmt.Errorf("seeding %d day-old keys: %w", n, err)
	}
	return nil
}

// start empties the tables (then seeds sweepKeys day-old keys, and turns
// the server's own sweep off) and starts the server bin (empty:
// ServerBin) with stages, its audit trail in OutDir named after name (the
// caller removes it when done).
func (b *Bench) start(ctx context.Context, bin, stages, name string, profiling bool, sweepKeys int, extra ...string) (srv *serverProc, audit string, err error) {
	if err := b.Fresh(ctx); err != nil {
		return nil, "", err
	}
	if sweepKeys > 0 {
		if err := b.seedKeys(ctx, sweepKeys); err != nil {
			return nil, "", err
		}
		extra = append(slices.Clip(extra), "-key-sweep-every=0")
	}
	if bin == "" {
		bin = b.ServerBin
	}
	audit = filepath.Join(b.OutDir, "audit-"+name+".log")
	srv, err = startServer(ctx, bin, stages, b.DB.URL, audit, profiling, extra...)
	return srv, audit, err
}

// Leg runs one measured leg of side: a fresh table, a fresh server, the
// warm-up, then w's work. name names its audit file. A leg of the
// do-nothing server (Side.DoesNothing) is refused if it did any work.
func (b *Bench) Leg(ctx context.Context, side *Side, w Work, name string) (Leg, error) {
	srv, audit, err := b.start(ctx, side.Bin, side.Stages, name, false, w.SweepKeys, side.Args...)
	if err != nil {
		return Leg{}, err
	}
	defer os.Remove(audit)
	leg, err := b.drive(ctx, srv, nil, w)
	if stopErr := srv.stop(); err == nil {
		err = stopErr
	}
	if err == nil && side.DoesNothing() {
		leg.Rows, err = b.checkDidNothing(ctx, leg, audit)
	}
	return leg, err
}

// DoesNothing reports whether the side is the do-nothing server (-discard),
// a ceiling rather than a server.
func (s *Side) DoesNothing() bool { return slices.Contains(s.Args, "-discard") }

// checkDidNothing refuses a ceiling leg that did work: a "server that does
// nothing" that stored rows, wrote an audit record, talked to the database
// or fsync'd would be a server, and the ceiling it measured would bound
// nothing (one ran the whole fixed server for a week, unnoticed).
func (b *Bench) checkDidNothing(ctx context.Context, leg Leg, audit string) (rows int64, err error) {
	if err := b.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&rows); err != nil {
		return 0, err
	}
	var problems []string
	if leg.Mode != "discard" {
		problems = append(problems, fmt.Sprintf("it says it is %q, not \"discard\"", leg.Mode))
	}
	if rows != 0 {
		problems = append(problems, fmt.Sprintf("%d rows stored", rows))
	}
	if leg.RoundTrips != 0 {
		problems = append(problems, fmt.Sprintf("%d database round trips", leg.RoundTrips))
	}
	if leg.Fsyncs != 0 {
		problems = append(problems, fmt.Sprintf("%d audit fsyncs", leg.Fsyncs))
	}
	if _, err := os.Stat(audit); err == nil {
		problems = append(problems, "an audit file written")
	}
	if len(problems) > 0 {
		return rows, fmt.Errorf("the do-nothing server did work over %d requests (%s): refusing it as a ceiling; see TestDiscardDoesNothing",
			leg.Load.Requests, strings.Join(problems, ", "))
	}
	return rows, nil
}

// drive sends w's warm-up, then its requests, reading the runtime
// counters between; during, if set, runs alongside the measured requests.
//
// It is long on purpose: one leg's sequence (warm-up, counters, load,
// readers, reads), whose order decides what the counters cover.
func (b *Bench) drive(ctx context.Context, srv *serverProc, during func(), w Work) (Leg, error) {
	spec := w.Load
	spec.Target = srv.public
	if spec.Warmup > 0 {
		if _, err := load.Run(ctx, spec.WarmupSpec(), nil); err != nil {
			return Leg{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	before, err := srv.memStats(ctx)
	if err != nil {
		return Leg{}, err
	}
	spec.Warmup = 0
	// /proc is read only when asked: it walks every process on the machine.
	var cpuBefore cpuSnapshot
	if w.ProcessCPU {
		cpuBefore = takeCPU(srv.cmd.Process.Pid)
	}
	var wg sync.WaitGroup
	if during != nil {
		wg.Go(during)
	}
	var sweep *Sweep
	var sweepErr error
	if w.SweepKeys > 0 {
		// A third of the way in, at a fixed rate; in capacity mode, a
		// second in.
		after := time.Second
		if spec.Mode == load.Latency && spec.Rate > 0 {
			after = time.Duration(float64(spec.Requests) / float64(spec.Rate) / 3 * float64(time.Second))
		}
		wg.Go(func() { sweep, sweepErr = srv.sweepAfter(ctx, after) })
	}
	// The /stats readers run exactly as long as the measured ingest.
	var statsRes *load.ReadersResult
	var statsErr error
	readersCtx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	if w.StatsReaders > 0 {
		wg.Go(func() {
			r, err := load.StatsReaders(readersCtx, srv.public, w.StatsReaders)
			statsRes, statsErr = &r, err
		})
	}
	last := time.Now()
	res, err := load.Run(ctx, spec, func(done, total int) {
		if time.Since(last) >= time.Second {
			last = time.Now()
			b.Progressf("  %d/%d requests", done, total)
		}
	})
	stopReaders()
	if err != nil {
		return Leg{}, err
	}
	var cpu *CPUUse
	if w.ProcessCPU {
		u := cpuUse(cpuBefore, takeCPU(srv.cmd.Process.Pid), res.Requests, res.Duration)
		u.ServerPeakMB = peakMB(srv.cmd.Process.Pid)
		cpu = &u
	}
	after, err := srv.memStats(ctx)
	wg.Wait()
	if err != nil {
		return Leg{}, err
	}
	if statsErr != nil {
		return Leg{}, fmt.Errorf("/stats readers: %w", statsErr)
	}
	if sweepErr != nil {
		return Leg{}, sweepErr
	}
	if res.Succeeded != res.Requests {
		return Leg{}, fmt.Errorf("%d of %d requests failed (%v): a comparison of failing servers means nothing; server log:\n%s",
			res.Requests-res.Succeeded, res.Requests, res.Errors, srv.stderr)
	}
	var reads *load.Result
	if w.Reads > 0 {
		// The read path, over the rows the writes just stored. With a
		// warm-up of its own: a batch writer leaves the pool with a
		// connection or two, a store per request with one per client, and
		// timing the reads that open the rest would measure connection
		// setup, not the read path (lab 07's lesson measured both).
		r := spec
		r.Kind, r.Requests, r.Mode, r.Warmup = load.Recent, w.Reads, load.Capacity, w.Load.Warmup
		rr, err := load.Run(ctx, r, nil)
		if err != nil {
			return Leg{}, fmt.Errorf("reads: %w", err)
		}
		if rr.Succeeded != rr.Requests {
			return Leg{}, fmt.Errorf("%d of %d reads failed (%v)", rr.Requests-rr.Succeeded, rr.Requests, rr.Errors)
		}
		reads = &rr
	}
	return Leg{
		Reads:            reads,
		Load:             res,
		AllocsPerReq:     float64(after.Mallocs-before.Mallocs) / float64(res.Requests),
		GCCycles:         after.NumGC - before.NumGC,
		RoundTripsPerReq: float64(after.RoundTrips-before.RoundTrips) / float64(res.Requests),
		FsyncsPerReq:     float64(after.Fsyncs-before.Fsyncs) / float64(res.Requests),
		CopiesInFlight:   (after.CopySecs - before.CopySecs) / res.Duration.Seconds(),
		BytesPerReq:      float64(after.TotalAlloc-before.TotalAlloc) / float64(res.Requests),
		MutexWaitPerReq:  (after.Sched.MutexWait - before.Sched.MutexWait) * 1e6 / float64(res.Requests),
		Stats:            statsRes,
		CPU:              cpu,
		GoroutinesPerReq: float64(after.Sched.GoroutinesCreated-before.Sched.GoroutinesCreated) / float64(res.Requests),
		SchedP99:         after.Sched.Latencies.Sub(before.Sched.Latencies).Quantile(0.99) * 1e6,
		Mode:             after.Mode,
		RoundTrips:       after.RoundTrips - before.RoundTrips,
		Fsyncs:           after.Fsyncs - before.Fsyncs,
		Sweep:            sweep,
		Snapshots:        after.Snapshots - before.Snapshots,
	}, nil
}

// CopyCeiling empties the table and copies 50,000 rows of spec's events
// into it with one CopyFrom (fsync on, as for the servers), returning rows
// per second: what the database can ingest of this work, with no server
// in the way.
func (b *Bench) CopyCeiling(ctx context.Context, spec load.Spec) (float64, error) {
	if err := b.Fresh(ctx); err != nil {
		return 0, err
	}
	const rows = 50_000
	perReq := max(1, spec.Lines)
	src := make([][]any, 0, rows)
	for i := 0; len(src) < rows; i++ {
		for j, e := range load.Events(spec.Seed, i, perReq) {
			if len(src) == rows {
				break
			}
			src = append(src, []any{[16]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 1}, j + 1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes})
		}
	}
	start := time.Now()
	n, err := b.DB.Pool.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"request_id", "line", "ts", "user_id", "path", "status", "latency_ms", "bytes"}, pgx.CopyFromRows(src))
	if err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// UnderLoad runs the server with stages under spec's load, as long as it
// takes, and takes an fgprof profile of seconds in the thick of it, then a
// CPU profile of as many seconds (one after the other: fgprof's own
// sampling would fill a CPU profile taken beside it). name names the files.
func (b *Bench) UnderLoad(ctx context.Context, stages string, spec load.Spec, seconds int, name string) (wall, cpu *profile.Profile, err error) {
	err = b.underLoad(ctx, stages, spec, name, func(take capture) error {
		if _, wall, err = take(name+"-fgprof", "/debug/fgprof?format=pprof&", seconds); err != nil {
			return err
		}
		_, cpu, err = take(name+"-cpu", "/debug/pprof/profile?", seconds)
		return err
	})
	return wall, cpu, err
}

// CPUCaptures runs the server with stages under spec's load and takes n
// CPU profiles of seconds each, one after the other, into OutDir as
// name-1.pb.gz, name-2.pb.gz, ...; it returns their paths. Lab 9 builds
// its default.pgo from them.
func (b *Bench) CPUCaptures(ctx context.Context, stages string, spec load.Spec, seconds, n int, name string) ([]string, error) {
	var paths []string
	err := b.underLoad(ctx, stages, spec, name, func(take capture) error {
		for i := range n {
			path, _, err := take(fmt.Sprintf("%s-%d", name, i+1), "/debug/pprof/profile?", seconds)
			if err != nil {
				return err
			}
			paths = append(paths, path)
		}
		return nil
	})
	return paths, err
}

// capture fetches a profile of seconds from the admin endpoint url (which
// ends in ? or &) into OutDir/name.pb.gz.
type capture func(name, url string, seconds int) (path string, p *profile.Profile, err error)

// underLoad runs a server with stages under spec's load until takes has
// taken its profiles; name names its audit file.
func (b *Bench) underLoad(ctx context.Context, stages string, spec load.Spec, name string, takes func(capture) error) error {
	srv, audit, err := b.start(ctx, "", stages, name+"-underload", false, 0)
	if err != nil {
		return err
	}
	defer os.Remove(audit)
	defer srv.kill()
	spec.Target, spec.Requests, spec.Warmup = srv.public, 1_000_000, 0 // until the profiles are taken
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = load.Run(lctx, spec, nil) })
	defer wg.Wait()
	defer stop()
	time.Sleep(500 * time.Millisecond) // past the first connections
	return takes(func(name, url string, seconds int) (string, *profile.Profile, error) {
		body, err := get(ctx, fmt.Sprintf("%s%sseconds=%d", srv.admin, url, seconds))
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
		path := filepath.Join(b.OutDir, name+".pb.gz")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return "", nil, err
		}
		p, err := flame.Load(path)
		return path, p, err
	})
}
