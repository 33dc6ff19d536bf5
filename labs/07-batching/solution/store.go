package solution

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/server"
)

// Options tune the batch writer. The zero value means the defaults.
type Options struct {
	MaxRows int           // most rows per COPY; default 2000
	Linger  time.Duration // how long a batch waits for more requests; default 0: take what is queued, no waiting
	Queue   int           // most requests waiting for the writer; default 256
}

// ErrClosed is returned by Insert after Close.
var ErrClosed = errors.New("event store is closed")

// Store keeps events in the events table, writing them in batches.
type Store struct {
	pool *pgxpool.Pool
	opts Options

	queue   chan *pending
	closing chan struct{}
	done    chan struct{}

	// mu orders Insert and Close: an Insert that got past the closed check
	// finishes queuing before Close proceeds, so the writer's final drain
	// sees every queued request and none waits forever.
	mu     sync.RWMutex
	closed bool
}

// pending is one request's events, waiting for its batch to commit.
type pending struct {
	// requestID is a plain [16]byte, which pgx encodes as a uuid
	// directly. As a string, or even as a uuid.UUID (a driver.Valuer that
	// yields a string), every row made pgx try the binary uuid encoding,
	// fail, build an error with fmt.Errorf and retry as text: 22% of this
	// store's CPU in its own benchmark profile. Profile the fix, too.
	requestID [16]byte
	events    []server.Event
	result    chan error // buffered: the writer never blocks on a waiter
}

// New starts a store on pool; it does not own the pool. Close stops it.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 2000
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	s := &Store{
		pool:    pool,
		opts:    opts,
		queue:   make(chan *pending, opts.Queue),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.writer()
	return s
}

// Insert implements server.Store.
func (s *Store) Insert(ctx context.Context, requestID string, events []server.Event) error {
	if len(events) == 0 {
		return nil
	}
	id, err := uuid.Parse(requestID)
	if err != nil {
		return fmt.Errorf("request id %q is not a UUID: %w", requestID, err)
	}
	p := &pending{requestID: [16]byte(id), events: events, result: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- p:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		// Back-pressure: the queue stayed full for as long as the caller
		// was willing to wait. Nothing was queued, nothing will be stored.
		return fmt.Errorf("event store queue full: %w", ctx.Err())
	}
	// Once queued, wait for the outcome even if ctx ends: the batch may
	// already be committing, and an answer of "failed" for events that are
	// in fact stored would invite a duplicating retry.
	return <-p.result
}

// writer is the only goroutine that writes events.
func (s *Store) writer() {
	defer close(s.done)
	for {
		var first *pending
		select {
		case first = <-s.queue:
		case <-s.closing:
			// Drain: everything queued before Close is still written.
			for {
				select {
				case p := <-s.queue:
					s.flush(s.gather(p, true))
				default:
					return
				}
			}
		}
		s.flush(s.gather(first, false))
	}
}

// gather builds a batch from first and what else is queued, up to MaxRows
// rows, waiting up to Linger for more unless draining.
func (s *Store) gather(first *pending, draining bool) []*pending {
	batch := []*pending{first}
	rows := len(first.events)
	var linger <-chan time.Time
	if s.opts.Linger > 0 && !draining {
		t := time.NewTimer(s.opts.Linger)
		defer t.Stop()
		linger = t.C
	}
	for rows < s.opts.MaxRows {
		select {
		case p := <-s.queue:
			batch = append(batch, p)
			rows += len(p.events)
			continue
		default:
		}
		if linger == nil {
			break
		}
		select {
		case p := <-s.queue:
			batch = append(batch, p)
			rows += len(p.events)
			continue
		case <-linger:
		}
		break
	}
	return batch
}

var columns = []string{"request_id", "line", "ts", "user_id", "path", "status", "latency_ms", "bytes"}

// flush writes a batch with one COPY and tells every request in it.
func (s *Store) flush(batch []*pending) {
	// The writer's context is not any request's: a client that hangs up
	// must not abort a COPY that carries other clients' events.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"events"}, columns, &rows{batch: batch, line: -1})
	if err != nil {
		err = fmt.Errorf("copy %d requests' events: %w", len(batch), err)
	}
	for _, p := range batch {
		p.result <- err
	}
}

// rows feeds CopyFrom from the batch without building a [][]any up front.
type rows struct {
	batch []*pending
	req   int // index in batch
	line  int // index in batch[req].events; -1 before the first Next
	vals  [8]any
}

func (r *rows) Next() bool {
	r.line++
	for r.req < len(r.batch) && r.line >= len(r.batch[r.req].events) {
		r.req++
		r.line = 0
	}
	return r.req < len(r.batch)
}

func (r *rows) Values() ([]any, error) {
	p := r.batch[r.req]
	e := &p.events[r.line]
	r.vals = [8]any{p.requestID, r.line + 1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes}
	return r.vals[:], nil
}

func (r *rows) Err() error { return nil }

// Recent implements server.Store.
func (s *Store) Recent(ctx context.Context, userID int64, limit int) ([]server.StoredEvent, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id, request_id::text, line, ts, user_id, path, status, latency_ms, bytes
		 FROM events WHERE user_id = $1 ORDER BY ts DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (server.StoredEvent, error) {
		var e server.StoredEvent
		err := row.Scan(&e.ID, &e.RequestID, &e.Line, &e.Time, &e.UserID, &e.Path, &e.Status, &e.LatencyMS, &e.Bytes)
		e.Route = server.Route(e.Path)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("recent events: %w", err)
	}
	return events, nil
}

// Close implements server.Store: no new Inserts, everything queued written.
func (s *Store) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	<-s.done
	return nil
}
