// Package load drives a fixed amount of work at a flamelab server, with
// vegeta's attack library.
//
// Every run is bounded three ways: a fixed number of requests, a fixed number
// of workers, and a time limit after which it stops by itself. It only ever
// talks to loopback addresses (127.0.0.0/8 and ::1): the target URL must be a
// loopback IP literal, and the dialer refuses any other address besides, so
// not even a redirect or a DNS surprise can send traffic elsewhere.
package load

import (
	"github.com/flamelab/flamelab/server"

	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Mode is how requests are paced.
type Mode string

const (
	// Capacity sends as fast as Workers concurrent clients can: each worker
	// sends its next request as soon as the last one is answered. It
	// measures maximum throughput.
	Capacity Mode = "capacity"
	// Latency sends at a fixed Rate, whatever the answers do, so latency is
	// measured without the slow side slowing the clock (no coordinated
	// omission). Pick a rate the slow side can sustain.
	Latency Mode = "latency"
)

// Kind is what the requests do.
type Kind string

const (
	// Ingest POSTs Lines access-log lines to /events (the default).
	Ingest Kind = "ingest"
	// Recent GETs /users/{id}/events?limit=50 for users drawn from the
	// same seeded distribution as the ingested lines: the read path.
	Recent Kind = "recent"
)

// Spec is one run's workload.
type Spec struct {
	Target   string        // base URL, e.g. http://127.0.0.1:8080; must be loopback
	Kind     Kind          // Ingest (default) or Recent
	Mode     Mode          // Capacity or Latency
	Requests int           // measured requests, exactly this many are sent
	Warmup   int           // requests sent first and not counted
	Workers  int           // concurrent clients (Capacity) or the most in flight (Latency)
	Rate     int           // requests per second (Latency only)
	Lines    int           // access-log lines per POST /events body
	Seed     uint64        // payloads are a pure function of Seed and the request index
	Timeout  time.Duration // per request; default 30s
	Limit    time.Duration // the whole run stops after this, finished or not; default 5m
}

// Result summarises the measured requests.
type Result struct {
	Requests  int           // sent and counted
	Succeeded int           // 2xx
	Duration  time.Duration // first request sent to last answer received
	ReqPerSec float64       // successful requests per second
	P50, P90  time.Duration
	P99, Max  time.Duration
	// WorstSecondP99 is the p99 of the worst second: the requests sent in
	// each whole second of the run, taken apart, and the highest of their
	// p99s. A dashboard's p99 line shows it as the spike that the whole
	// run's P99 dilutes; seconds with fewer than 20 requests are left out.
	WorstSecondP99 time.Duration
	Statuses       map[string]int // "200": n; "error" for transport errors
	Errors         []string       // distinct transport and non-2xx errors, at most 10
	TimedOut       bool           // Limit stopped the run before every request was answered
}

func (s *Spec) check() error {
	if err := CheckLoopback(s.Target); err != nil {
		return err
	}
	switch {
	case s.Requests <= 0:
		return errors.New("load: Requests must be > 0")
	case s.Workers <= 0:
		return errors.New("load: Workers must be > 0")
	case s.Lines <= 0 && s.Kind != Recent:
		return errors.New("load: Lines must be > 0")
	case s.Kind != "" && s.Kind != Ingest && s.Kind != Recent:
		return fmt.Errorf("load: unknown kind %q", s.Kind)
	case s.Mode == Latency && s.Rate <= 0:
		return errors.New("load: latency mode needs a Rate > 0")
	case s.Mode != Capacity && s.Mode != Latency:
		return fmt.Errorf("load: unknown mode %q", s.Mode)
	}
	if s.Timeout <= 0 {
		s.Timeout = 30 * time.Second
	}
	if s.Limit <= 0 {
		s.Limit = 5 * time.Minute
	}
	return nil
}

// CheckLoopback returns an error unless target is an http URL whose host is a
// loopback IP literal. Host names, even "localhost", are refused: what they
// resolve to is not ours to trust.
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("load: target %q: %w", target, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("load: target %q: only http:// is supported", target)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: target %q is not a loopback IP (127.0.0.1 or [::1]); flamelab never sends load anywhere else", target)
	}
	return nil
}

// loopbackOnly refuses to connect anywhere but loopback, whatever the URL said.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: refusing to connect to non-loopback address %s", address)
	}
	return nil
}

func client(s *Spec) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}
	return &http.Client{
		Timeout: s.Timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: s.Workers,
			MaxConnsPerHost:     s.Workers,
			Proxy:               nil, // never through a proxy: it would not be loopback
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Body returns the body of request i: Lines access-log lines, a pure
// function of (seed, i), so both sides of a comparison get the same work.
// Its lines are Events(seed, i, lines), written out.
//
// It runs on the load generator's CPU, which the server and Postgres share
// on a small machine, once per request: so it appends into one buffer of
// the right size, with strconv and time.AppendFormat (whose RFC 3339 path
// allocates nothing), not fmt. BenchmarkBody measures it;
// TestBodyUnchanged holds it byte for byte to the fmt version it replaced.
func Body(seed uint64, i, lines int) []byte {
	b := make([]byte, 0, lines*bytesPerLine)
	g := newDraws(seed, i)
	for l := range lines {
		d := g.next()
		b = append(b, "ts="...)
		b = lineTime(i, lines, l).AppendFormat(b, time.RFC3339Nano)
		b = append(b, " user="...)
		b = strconv.AppendInt(b, d.user, 10)
		b = append(b, " path="...)
		b = d.appendPath(b)
		b = append(b, " status="...)
		b = strconv.AppendInt(b, int64(d.status), 10)
		b = append(b, " latency_ms="...)
		b = strconv.AppendInt(b, int64(d.latency), 10)
		b = append(b, " bytes="...)
		b = strconv.AppendInt(b, d.bytes, 10)
		b = append(b, '\n')
	}
	return b
}

// bytesPerLine is a little over the longest line Body writes (about 100
// bytes), so the buffer is allocated once.
const bytesPerLine = 112

// Events returns the events of Body(seed, i, lines) as a correct parser
// reads them: a fixture for tests of the stages after the parser, which must
// not depend on any lab's parser.
func Events(seed uint64, i, lines int) []server.Event {
	g := newDraws(seed, i)
	out := make([]server.Event, lines)
	for l := range out {
		d := g.next()
		out[l] = server.Event{
			Time:      lineTime(i, lines, l),
			UserID:    d.user,
			Path:      string(d.appendPath(nil)),
			Status:    d.status,
			LatencyMS: d.latency,
			Bytes:     d.bytes,
		}
	}
	return out
}

var (
	// paths are the routes lines visit; the ones with a number (hasID)
	// get an id between prefix and suffix.
	paths = [...]struct {
		prefix, suffix string
		hasID          bool
	}{{"/cart", "", false}, {"/users/", "/cart", true}, {"/products/", "", true}, {"/search", "", false}, {"/checkout", "", false}, {"/api/v1/orders/", "", true}}
	statuses = [...]int{200, 200, 200, 200, 201, 204, 301, 304, 404, 500}
	baseTime = time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)
)

// lineTime is the ts= of line l of request i: one millisecond per line
// since baseTime, so every line of a run has its own time.
func lineTime(i, lines, l int) time.Time {
	return baseTime.Add(time.Duration(i*lines+l) * time.Millisecond)
}

// draws is the random source of one request's lines.
type draws struct {
	src rand.PCG
	r   *rand.Rand
}

// draw is one line's random fields.
type draw struct {
	path    int
	id      int
	user    int64
	status  int
	latency int
	bytes   int64
}

func newDraws(seed uint64, i int) *draws {
	g := &draws{src: *rand.NewPCG(seed, uint64(i))}
	g.r = rand.New(&g.src)
	return g
}

// next draws a line's fields in the order they were always drawn (path,
// its id, user, status, latency, bytes), so every seed gives the bodies it
// always gave.
func (g *draws) next() draw {
	var d draw
	d.path = g.r.IntN(len(paths))
	if paths[d.path].hasID {
		d.id = g.r.IntN(100000)
	}
	d.user = int64(g.r.IntN(5000))
	d.status = statuses[g.r.IntN(len(statuses))]
	d.latency = g.r.IntN(1000)
	d.bytes = int64(g.r.IntN(100000))
	return d
}

func (d draw) appendPath(b []byte) []byte {
	p := paths[d.path]
	b = append(b, p.prefix...)
	if p.hasID {
		b = strconv.AppendInt(b, int64(d.id), 10)
	}
	return append(b, p.suffix...)
}

// User returns the user read by request i of a Recent run: drawn like the
// user= fields of Body, so the reads find events.
func User(seed uint64, i int) int {
	return rand.New(rand.NewPCG(seed, uint64(i)^0x7ead)).IntN(5000)
}

// WarmupSpec is the warm-up part of s: Warmup requests, with payloads of
// their own (another seed), and no warm-up of its own.
func (s Spec) WarmupSpec() Spec {
	w := s
	w.Requests, w.Warmup, w.Seed = s.Warmup, 0, s.Seed^0x5eed
	return w
}

// Run sends the warm-up, then the measured requests, and summarises the
// latter. progress, if not nil, is called with the number of measured
// requests answered so far.
func Run(ctx context.Context, s Spec, progress func(done, total int)) (Result, error) {
	if err := s.check(); err != nil {
		return Result{}, err
	}
	if s.Warmup > 0 {
		if _, err := attack(ctx, s.WarmupSpec(), nil); err != nil {
			return Result{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	return attack(ctx, s, progress)
}

// attack runs one vegeta attack of s and summarises its results.
//
// It is long on purpose: vegeta's attack loop and the result accounting it
// feeds, which must see every result exactly once.
func attack(ctx context.Context, s Spec, progress func(done, total int)) (Result, error) {
	base := strings.TrimSuffix(s.Target, "/")
	header := http.Header{"Content-Type": []string{"text/plain"}}
	var next atomic.Int64
	targeter := func(t *vegeta.Target) error {
		i := int(next.Add(1) - 1)
		if i >= s.Requests {
			return vegeta.ErrNoTargets
		}
		if s.Kind == Recent {
			t.Method, t.URL, t.Header, t.Body = http.MethodGet, fmt.Sprintf("%s/users/%d/events?limit=50", base, User(s.Seed, i)), nil, nil
			return nil
		}
		t.Method, t.URL, t.Header, t.Body = http.MethodPost, base+"/events", header, Body(s.Seed, i, s.Lines)
		return nil
	}

	var pacer vegeta.Pacer = vegeta.ConstantPacer{} // zero rate: as fast as the workers go
	workers := uint64(s.Workers)
	opts := []func(*vegeta.Attacker){vegeta.Workers(workers), vegeta.MaxWorkers(workers)}
	if s.Mode == Latency {
		pacer = vegeta.ConstantPacer{Freq: s.Rate, Per: time.Second}
		// Start few workers and let vegeta add more only when all are busy,
		// up to Workers: a fixed rate must not wait for answers.
		opts = []func(*vegeta.Attacker){vegeta.Workers(min(workers, 4)), vegeta.MaxWorkers(workers)}
	}
	total := s.Requests
	limited := countPacer{Pacer: pacer, n: uint64(total)}
	atk := vegeta.NewAttacker(append(opts, vegeta.Client(client(&s)))...)

	var m vegeta.Metrics
	res := Result{Statuses: map[string]int{}}
	var seconds secondly
	errs := map[string]bool{}
	timer := time.NewTimer(s.Limit)
	defer timer.Stop()
	results := atk.Attack(vegeta.Targeter(targeter), limited, s.Limit, "flamelab")
	for {
		select {
		case <-ctx.Done():
			atk.Stop()
			for range results {
			}
			return res, ctx.Err()
		case <-timer.C:
			atk.Stop()
			res.TimedOut = true
		case r, ok := <-results:
			if !ok {
				m.Close()
				res.Requests = int(m.Requests)
				res.Duration = m.Duration + m.Wait
				res.P50, res.P90, res.P99, res.Max = m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max
				res.WorstSecondP99 = seconds.worstP99(20)
				if res.Duration > 0 {
					res.ReqPerSec = float64(res.Succeeded) / res.Duration.Seconds()
				}
				for e := range errs {
					res.Errors = append(res.Errors, e)
				}
				if res.Requests < total {
					res.TimedOut = true
				}
				return res, nil
			}
			m.Add(r)
			seconds.add(r.Timestamp, r.Latency)
			status := fmt.Sprint(r.Code)
			if r.Code == 0 {
				status = "error"
			}
			res.Statuses[status]++
			if r.Code >= 200 && r.Code < 300 {
				res.Succeeded++
			} else if len(errs) < 10 {
				msg := r.Error
				if msg == "" {
					msg = fmt.Sprintf("%d: %s", r.Code, strings.TrimSpace(string(r.Body)))
				}
				errs[msg] = true
			}
			if progress != nil {
				progress(int(m.Requests), total)
			}
		}
	}
}

// secondly keeps when each request was sent and how long it took, to
// take the run apart by the second.
type secondly struct {
	sent    []time.Time
	latency []time.Duration
}

func (s *secondly) add(sent time.Time, latency time.Duration) {
	s.sent, s.latency = append(s.sent, sent), append(s.latency, latency)
}

// worstP99 is the highest p99 of the whole seconds (counted from the first
// request sent) with at least least requests.
func (s *secondly) worstP99(least int) time.Duration {
	if len(s.sent) == 0 {
		return 0
	}
	start := slices.MinFunc(s.sent, time.Time.Compare)
	by := map[int][]time.Duration{}
	for i, t := range s.sent {
		sec := int(t.Sub(start) / time.Second)
		by[sec] = append(by[sec], s.latency[i])
	}
	var worst time.Duration
	for _, l := range by {
		if len(l) < least {
			continue
		}
		slices.Sort(l)
		worst = max(worst, l[(len(l)*99-1)/100])
	}
	return worst
}

// countPacer stops the attack after n hits: the fixed amount of work.
type countPacer struct {
	vegeta.Pacer
	n uint64
}

func (p countPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.n {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}
