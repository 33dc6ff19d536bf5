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
	"github.com/flamelab/flamelab/server/postgres"
)

// Options tune the batch writer. The zero value means the defaults.
type Options struct {
	MaxRows int           // most rows per COPY; default 2000
	Linger  time.Duration // how long a batch waits for more requests; default 0: take what is queued, no waiting
	Queue   int           // most requests waiting for the writer; default 256
	Timeout time.Duration // the most one batch may take; default 30 s
	// Pipeline runs the batches (lab 08-pipeline). nil: one at a time,
	// each gathered only once the one before it has committed, as this lab
	// writes them.
	Pipeline server.Pipeline
}

// ErrClosed is returned by Insert after Close.
var ErrClosed = errors.New("event store is closed")

// Store keeps events in the events table, writing them in batches.
type Store struct {
	pool *pgxpool.Pool
	opts Options

	queue   chan *pending
	closing chan struct{}
	done    chan struct{} // closed when the pipeline has returned: every batch written

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
	req       server.Request
	result    chan outcome // buffered: the writer never blocks on a waiter
}

// outcome is what the writer tells a waiting Insert.
type outcome struct {
	receipt server.Receipt
	err     error
}

// New starts a store on pool; it does not own the pool. Close stops it.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 2000
	}
	if opts.Queue <= 0 {
		opts.Queue = 256
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
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
func (s *Store) Insert(ctx context.Context, req server.Request) (server.Receipt, error) {
	if len(req.Events) == 0 {
		return server.Receipt{RequestID: req.ID}, nil
	}
	id, err := uuid.Parse(req.ID)
	if err != nil {
		return server.Receipt{}, fmt.Errorf("request id %q is not a UUID: %w", req.ID, err)
	}
	p := &pending{requestID: [16]byte(id), req: req, result: make(chan outcome, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return server.Receipt{}, ErrClosed
	}
	select {
	case s.queue <- p:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		// Nothing was queued, nothing will be stored. With 32 clients and
		// 256 slots the queue is never full: this is a client that hung
		// up (or a deadline that passed) while waiting for a slot.
		return server.Receipt{}, fmt.Errorf("not queued: %w", ctx.Err())
	}
	// Once queued, wait for the outcome even if ctx ends: the batch may
	// already be committing, and an answer of "failed" for events that are
	// in fact stored would invite a duplicating retry.
	o := <-p.result
	return o.receipt, o.err
}

// writer runs the batches through the pipeline until Close has drained the
// queue.
func (s *Store) writer() {
	defer close(s.done)
	p := s.opts.Pipeline
	if p == nil {
		p = oneAtATime{}
	}
	p.Run(s.next)
}

// oneAtATime is this lab's pipeline: gather a batch, write it, and only then
// gather the next. Lab 08 starts from it.
type oneAtATime struct{}

func (oneAtATime) Run(next func() (func(), bool)) {
	for {
		flush, ok := next()
		if !ok {
			return
		}
		flush()
	}
}

// next waits for a request and gathers the batch it starts. After Close it
// drains: every request queued before Close is still written, and then
// there are no more batches.
func (s *Store) next() (func(), bool) {
	var first *pending
	draining := false
	select {
	case first = <-s.queue:
	case <-s.closing:
		select {
		case first = <-s.queue:
			draining = true
		default:
			return nil, false
		}
	}
	batch := s.gather(first, draining)
	return func() { s.flush(batch) }, true
}

// gather builds a batch from first and what else is queued, up to MaxRows
// rows, waiting up to Linger for more unless draining.
func (s *Store) gather(first *pending, draining bool) []*pending {
	batch := []*pending{first}
	rows := len(first.req.Events)
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
			rows += len(p.req.Events)
			continue
		default:
		}
		if linger == nil {
			break
		}
		select {
		case p := <-s.queue:
			batch = append(batch, p)
			rows += len(p.req.Events)
			continue
		case <-linger:
		}
		break
	}
	return batch
}

var columns = []string{"request_id", "line", "ts", "user_id", "path", "status", "latency_ms", "bytes"}

// flush writes a batch and tells every request in it. It is safe to call
// beside other flushes (each takes its own connection from the pool), which
// lab 08's pipelines do. Without idempotency
// keys that is one COPY, which is one statement and so one transaction. With
// keys it is a transaction that claims the keys, copies the events of the
// requests whose keys were new, and commits: a retry is stored once, even
// across a crash.
func (s *Store) flush(batch []*pending) {
	// The writer's context is not any request's: a client that hangs up
	// must not abort a COPY that carries other clients' events.
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()

	// A key twice in one batch: the first request leads, and the others
	// follow its outcome as retries would.
	var keyed []server.Request
	var leaders []*pending
	lead := map[string]*pending{}
	follows := map[*pending]*pending{}
	for _, p := range batch {
		if p.req.Key == "" {
			continue
		}
		if l, ok := lead[p.req.Key]; ok {
			follows[p] = l
			continue
		}
		lead[p.req.Key] = p
		keyed = append(keyed, p.req)
		leaders = append(leaders, p)
	}

	decided := map[*pending]outcome{}
	var err error
	if len(keyed) == 0 {
		_, err = s.pool.CopyFrom(ctx, pgx.Identifier{"events"}, columns, &rows{batch: batch, line: -1})
		err = server.Uncertain(err) // one statement: its commit is its end
	} else {
		err = s.flushKeyed(ctx, batch, keyed, leaders, follows, decided)
	}
	if err != nil {
		err = fmt.Errorf("store %d requests: %w", len(batch), err)
		clear(decided)
	}
	results := make(map[*pending]outcome, len(batch))
	for _, p := range batch {
		if _, ok := follows[p]; ok {
			continue
		}
		o, ok := decided[p]
		switch {
		case ok:
		case err != nil:
			o = outcome{err: err}
		default:
			o = outcome{receipt: server.Receipt{RequestID: p.req.ID, Accepted: len(p.req.Events)}}
		}
		results[p] = o
	}
	for p, l := range follows {
		o := results[l]
		switch {
		case o.err != nil:
		case p.req.Digest != l.req.Digest:
			o = outcome{err: server.ErrKeyReused}
		default:
			o.receipt.Replayed = true
		}
		results[p] = o
	}
	for _, p := range batch {
		p.result <- results[p]
	}
}

// flushKeyed is flush's transaction for a batch with keys. It records in
// decided the requests it answers without storing them.
func (s *Store) flushKeyed(ctx context.Context, batch []*pending, keyed []server.Request, leaders []*pending, follows map[*pending]*pending, decided map[*pending]outcome) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background()) // nothing after Commit
	claims, err := postgres.ClaimKeys(ctx, tx, keyed)
	if err != nil {
		return err
	}
	for i, c := range claims {
		if !c.New {
			decided[leaders[i]] = outcome{receipt: c.Prior, err: c.Err}
		}
	}
	var store []*pending
	for _, p := range batch {
		if _, ok := decided[p]; !ok && follows[p] == nil {
			store = append(store, p)
		}
	}
	if len(store) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, columns, &rows{batch: store, line: -1}); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return server.Uncertain(fmt.Errorf("commit: %w", err))
	}
	return nil
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
	for r.req < len(r.batch) && r.line >= len(r.batch[r.req].req.Events) {
		r.req++
		r.line = 0
	}
	return r.req < len(r.batch)
}

func (r *rows) Values() ([]any, error) {
	p := r.batch[r.req]
	e := &p.req.Events[r.line]
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
