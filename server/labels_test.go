package server_test

import (
	"bytes"
	"context"
	"io"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server"
)

// labelsHere returns the profiler labels of the calling goroutine, as the
// goroutine profile prints them ("" for none): the profile is the only way
// to read a goroutine's labels, which is also the only way they matter.
//
//go:noinline
func labelsHere() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	for _, rec := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(rec, "server_test.labelsHere") {
			for line := range strings.Lines(rec) {
				if labels, ok := strings.CutPrefix(line, "# labels: "); ok {
					return strings.TrimSpace(labels)
				}
			}
			return ""
		}
	}
	return "(goroutine not found)"
}

// seen records the labels each stage was called under.
type seen struct {
	mu sync.Mutex
	by map[string]string
}

func (s *seen) add(stage string) {
	l := labelsHere()
	s.mu.Lock()
	s.by[stage] = l
	s.mu.Unlock()
}

type (
	lReader struct {
		server.BodyReader
		s *seen
	}
	lParser struct {
		server.Parser
		s *seen
	}
	lEnricher struct {
		server.Enricher
		s *seen
	}
	lStore struct {
		server.Store
		s *seen
	}
	lStats struct {
		server.Stats
		s *seen
	}
	lEncoder struct {
		server.Encoder
		s *seen
	}
	lAuditor struct {
		server.Auditor
		s *seen
	}
)

func (r lReader) ReadLines(b io.Reader) ([][]byte, func(), error) {
	r.s.add("read")
	return r.BodyReader.ReadLines(b)
}
func (p lParser) Parse(l []byte) (server.Event, error) { p.s.add("parse"); return p.Parser.Parse(l) }
func (e lEnricher) Enrich(evs []server.Event)          { e.s.add("enrich"); e.Enricher.Enrich(evs) }
func (s lStore) Insert(ctx context.Context, r server.Request) (server.Receipt, error) {
	s.s.add("store")
	return s.Store.Insert(ctx, r)
}
func (s lStats) Observe(evs []server.Event) { s.s.add("stats"); s.Stats.Observe(evs) }
func (e lEncoder) AuditRecord(id string, t time.Time, evs []server.Event) ([]byte, error) {
	e.s.add("encode")
	return e.Encoder.AuditRecord(id, t, evs)
}
func (a lAuditor) Append(ctx context.Context, rec []byte) error {
	a.s.add("audit")
	return a.Auditor.Append(ctx, rec)
}

func labelled(t *testing.T, cfg server.Config) *seen {
	t.Helper()
	f := &fakes{stored: map[string][]server.Event{}, keys: map[string]keyed{}}
	s := &seen{by: map[string]string{}}
	st := f.stages()
	st = server.Stages{
		BodyReader: lReader{st.BodyReader, s}, Parser: lParser{st.Parser, s}, Enricher: lEnricher{st.Enricher, s},
		Store: lStore{st.Store, s}, Stats: lStats{st.Stats, s}, Encoder: lEncoder{st.Encoder, s}, Auditor: lAuditor{st.Auditor, s},
	}
	srv, err := server.New(st, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := newHTTPServer(t, srv)
	if r := do(t, ts, "POST", "/events", "user=1\nuser=2"); r.status != 200 {
		t.Fatalf("POST /events: %d %v", r.status, r.json)
	}
	return s
}

// TestStageLabels: every stage runs under route= and its own stage=, so a
// profile can be cut by stage (go tool pprof -tagfocus=stage=parse).
func TestStageLabels(t *testing.T) {
	s := labelled(t, server.Config{})
	for _, stage := range []string{"read", "parse", "enrich", "store", "stats", "encode", "audit"} {
		want := `{"route":"POST /events", "stage":"` + stage + `"}`
		if got := s.by[stage]; got != want {
			t.Errorf("stage %s ran under labels %s; want %s", stage, got, want)
		}
	}
}

// TestNoLabels: Config.NoLabels runs the stages without any.
func TestNoLabels(t *testing.T) {
	s := labelled(t, server.Config{NoLabels: true})
	for stage, got := range s.by {
		if got != "" {
			t.Errorf("with NoLabels, stage %s ran under labels %s", stage, got)
		}
	}
	if len(s.by) != 7 {
		t.Errorf("%d stages called, want 7", len(s.by))
	}
}
