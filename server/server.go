// Package server is flamelab's event-ingest service: an HTTP API that accepts
// newline-delimited access-log lines, stores them durably in Postgres, and
// serves statistics and recent events.
//
// The request path runs through seven stages (see Stages), each one a lab's
// slow spot. The HTTP layer here is deliberately plain and not part of any
// lab: it validates, routes, and turns errors into JSON a person can act on.
//
// Package server depends on no lab: the stage implementations live under
// labs/, and the binary that assembles a server from them is
// labs/cmd/flamelab-server. Its tests use small fakes of the stages.
//
// API:
//
//	POST /events              body: access-log lines; 200 {"request_id","accepted"} once stored and audited
//	GET  /stats               aggregates of everything accepted since start (StatsReport)
//	GET  /users/{id}/events   a user's newest events, ?limit=N (default 50, max 1000)
//	GET  /healthz             200 when the database answers, 503 otherwise
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Defaults for Config.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultLimit        = 50
	MaxLimit            = 1000
)

// Pinger is what GET /healthz asks; a *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures a Server. The zero value of each field means its default.
type Config struct {
	MaxBodyBytes int64        // largest accepted POST /events body; DefaultMaxBodyBytes
	Logger       *slog.Logger // server errors (5xx); slog.Default()
	// StoreTimeout bounds how long a request waits for the Store;
	// DefaultStoreTimeout. Past it the request fails, and the answer says
	// whether its events may still be stored (see ErrUncertain).
	StoreTimeout time.Duration
	// NoLabels turns the profiler labels off (see labels.go): every
	// stage call runs under route= and stage= labels unless it is set.
	// Lab 10 measures what they cost with it.
	NoLabels bool
}

// DefaultStoreTimeout is Config.StoreTimeout's default.
const DefaultStoreTimeout = 30 * time.Second

// Server serves the public API. Create it with New.
type Server struct {
	stages Stages
	db     Pinger
	cfg    Config
	mux    *http.ServeMux
	labels labels // nil: off
}

// New returns a Server that runs requests through stages and checks health
// with db. Every stage must be set.
func New(stages Stages, db Pinger, cfg Config) (*Server, error) {
	if stages.BodyReader == nil || stages.Parser == nil || stages.Enricher == nil || stages.Encoder == nil ||
		stages.Stats == nil || stages.Auditor == nil || stages.Store == nil {
		return nil, errors.New("server.New: every stage must be set (see package labs for implementations)")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	s := &Server{stages: stages, db: db, cfg: cfg, mux: http.NewServeMux()}
	if !cfg.NoLabels {
		s.labels = newLabels()
	}
	// Patterns without methods: the handlers check the method themselves so
	// that 405 answers, like every other error, are JSON.
	s.mux.HandleFunc("/events", s.only(http.MethodPost, s.labels.route(RouteEvents, s.postEvents)))
	s.mux.HandleFunc("/stats", s.only(http.MethodGet, s.labels.route(RouteStats, s.getStats)))
	s.mux.HandleFunc("/users/{id}/events", s.only(http.MethodGet, s.labels.route(RouteUserEvents, s.getUserEvents)))
	s.mux.HandleFunc("/healthz", s.only(http.MethodGet, s.getHealth))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint %s; the API is POST /events, GET /stats, GET /users/{id}/events, GET /healthz", r.URL.Path))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// only wraps h so that other methods get 405 with an Allow header. GET
// endpoints also answer HEAD, as net/http's own patterns do.
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	allow := method
	if method == http.MethodGet {
		allow = "GET, HEAD"
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; use %s", r.Method, r.URL.Path, allow))
			return
		}
		h(w, r)
	}
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
	Line  int    `json:"line,omitempty"` // POST /events: the first bad line, 1-based
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSONError(w, status, errorBody{Error: msg})
}

func writeJSONError(w http.ResponseWriter, status int, body errorBody) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// serverError logs err and answers with status and msg; the details stay in
// the log, since they may name internals.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	s.cfg.Logger.Error(msg, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, status, msg)
}

// postEvents runs a request through the stages in the order of the numbered
// steps below; the lab that owns each step is in parentheses.
//
// It is long on purpose: the request's seven steps read top to bottom in the
// order the lessons number them, each with the answer its failure gets, so
// the promise table in README.md can be checked against one function.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes is over the limit of %d bytes; split it into several requests", r.ContentLength, limit))
		return
	}
	key, err := idempotencyKey(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	received := time.Now()

	// Each step runs under its stage's profiler label (labels.go); the
	// route's label is back for what lies between.
	lab := func(stage string) { s.labels.set(RouteEvents, stage) }
	done := func() { s.labels.set(RouteEvents, "") }

	// 1. read the body (lab 2)
	lab(StageRead)
	lines, release, err := s.stages.BodyReader.ReadLines(http.MaxBytesReader(w, r.Body, limit))
	done()
	defer release()
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is over the limit of %d bytes; split it into several requests", limit))
			return
		}
		writeError(w, http.StatusBadRequest, "could not read the body: "+err.Error())
		return
	}
	if len(lines) == 0 {
		writeError(w, http.StatusBadRequest, "empty body: send one access-log line per line, e.g. ts=2026-11-25T07:39:56Z user=42 path=/cart status=200 latency_ms=12 bytes=512")
		return
	}

	// 2. parse every line first: all or nothing (lab 6)
	events := make([]Event, len(lines))
	lab(StageParse)
	for i, line := range lines {
		ev, err := s.stages.Parser.Parse(line)
		if err == nil {
			err = checkEvent(ev)
		}
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, errorBody{
				Error: fmt.Sprintf("line %d: %v; nothing from this request was stored", i+1, err),
				Line:  i + 1,
			})
			return
		}
		events[i] = ev
	}
	done()

	// 3. enrich (lab 1)
	lab(StageEnrich)
	s.stages.Enricher.Enrich(events)
	done()

	// 4. store, all or nothing, committed before we answer (lab 7)
	req := Request{ID: uuid.NewString(), Key: key, Events: events}
	if key != "" {
		req.Digest = BodyDigest(lines)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
	lab(StageStore)
	receipt, err := s.stages.Store.Insert(ctx, req)
	done()
	cancel()
	switch {
	case errors.Is(err, ErrKeyReused):
		writeError(w, http.StatusUnprocessableEntity, "Idempotency-Key "+strconv.Quote(key)+" was used before for a different body; nothing was stored. Use a new key for new events")
		return
	case errors.Is(err, ErrUncertain) && key != "":
		w.Header().Set("Retry-After", "1")
		s.serverError(w, r, http.StatusServiceUnavailable, "the database did not confirm the commit, so your events may or may not be stored; retrying with the same Idempotency-Key is safe", err)
		return
	case errors.Is(err, ErrUncertain):
		// Not 503: clients retry those on their own, and without a key a
		// retry could store the events twice.
		s.serverError(w, r, http.StatusInternalServerError, "the database did not confirm the commit, so your events may or may not be stored; do not resend them blindly. "+
			"Send an Idempotency-Key header to make retries safe", err)
		return
	case err != nil:
		w.Header().Set("Retry-After", "1")
		s.serverError(w, r, http.StatusServiceUnavailable, "the database is unavailable; nothing from this request was stored, retry later", err)
		return
	}

	// 5. statistics count what was stored, once (lab 3)
	if !receipt.Replayed {
		lab(StageStats)
		s.stages.Stats.Observe(events)
		done()
	}

	// 6. the audit record (lab 4), durable before the answer (lab 5). It
	// is written only once the events are committed, so the trail holds
	// stored requests and nothing else. A replay writes its request's
	// record again: a crash between the commit and the fsync may have lost
	// the first, and the trail must hold every acknowledged request (at
	// least once; read it by request_id).
	//
	// Once committed, the record no longer depends on the client: a client
	// that hangs up now would otherwise cancel r.Context() and leave stored
	// events unaudited. Its own bound is the store's timeout.
	lab(StageEncode)
	record, err := s.stages.Encoder.AuditRecord(receipt.RequestID, received, events)
	done()
	if err == nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.StoreTimeout)
		lab(StageAudit)
		err = s.stages.Auditor.Append(actx, record)
		done()
		cancel()
	}
	if err != nil {
		stored := "your events are stored as request " + receipt.RequestID + ", but the audit trail could not record them"
		if key != "" {
			w.Header().Set("Retry-After", "1")
			s.serverError(w, r, http.StatusServiceUnavailable, stored+"; retry with the same Idempotency-Key (safe: it records them without storing them again)", err)
		} else {
			s.serverError(w, r, http.StatusInternalServerError, stored+"; do not resend them", err)
		}
		return
	}

	// 7. the response (lab 4)
	w.Header().Set("Content-Type", "application/json")
	if receipt.Replayed {
		w.Header().Set("Idempotency-Replayed", "true")
	}
	lab(StageEncode) // to the end: the route's wrapper restores the labels
	if err := s.stages.Encoder.WriteAccepted(w, receipt.RequestID, receipt.Accepted); err != nil {
		s.cfg.Logger.Warn("write response", "err", err) // stored already: the client may just have gone
	}
}

// MaxPathLength is the longest path= an event may have: with it, the
// memory /stats keeps and the size of every response are bounded.
const MaxPathLength = 2048

// checkEvent holds a parsed event to what the server can keep and give back,
// beyond the line grammar every Parser implements: a bounded path, and a time
// RFC 3339 can write back (years 0000 to 9999 in UTC: an offset can push
// 9999-12-31T23:59:59-23:59 into the year 10000).
func checkEvent(ev Event) error {
	if len(ev.Path) > MaxPathLength {
		return &ParseError{Field: "path", Reason: fmt.Sprintf("%d bytes long, over the limit of %d", len(ev.Path), MaxPathLength)}
	}
	if y := ev.Time.UTC().Year(); y < 0 || y > 9999 {
		return &ParseError{Field: "ts", Reason: "in UTC it falls outside the years 0000 to 9999, which RFC 3339 cannot write"}
	}
	return nil
}

// MaxKeyLength is the longest Idempotency-Key accepted.
const MaxKeyLength = 200

// KeyRetention is how long an Idempotency-Key is remembered at least: a retry
// within it is stored once; after it, the key may be forgotten and the same
// key stores the events again.
const KeyRetention = 24 * time.Hour

// idempotencyKey returns the request's Idempotency-Key, "" if it has none.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return "", nil
	}
	k := vals[0]
	if len(vals) > 1 || len(k) == 0 || len(k) > MaxKeyLength || strings.IndexFunc(k, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
		return "", fmt.Errorf("the Idempotency-Key header must appear once, with 1 to %d visible ASCII characters (a UUID is a good key)", MaxKeyLength)
	}
	return k, nil
}

func (s *Server) getStats(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	s.labels.set(RouteStats, StageStats)
	if err := s.stages.Stats.WriteJSON(w); err != nil {
		s.cfg.Logger.Warn("write stats", "err", err)
	}
}

func (s *Server) getUserEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	userID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || userID < 0 || id[0] == '+' {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("user id %q is not a non-negative integer", r.PathValue("id")))
		return
	}
	limit := DefaultLimit
	if q := r.URL.Query().Get("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q must be an integer from 1 to %d", q, MaxLimit))
			return
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StoreTimeout)
	s.labels.set(RouteUserEvents, StageStore)
	events, err := s.stages.Store.Recent(ctx, userID, limit)
	s.labels.set(RouteUserEvents, "")
	cancel()
	if err != nil {
		s.serverError(w, r, http.StatusServiceUnavailable, "the database is unavailable; retry later", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	s.labels.set(RouteUserEvents, StageEncode)
	if err := s.stages.Encoder.WriteEvents(w, userID, events); err != nil {
		s.cfg.Logger.Warn("write events", "err", err)
	}
}

func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.serverError(w, r, http.StatusServiceUnavailable, "the database does not answer", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{\"status\":\"ok\"}\n"))
}
