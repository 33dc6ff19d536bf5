package exercise

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
)

// Store keeps events in the events table.
type Store struct {
	pool *pgxpool.Pool
	// Every Insert holds mu for reading, so Close (which takes it for
	// writing) returns only once the Inserts in flight have finished.
	mu     sync.RWMutex
	closed bool
}

// ErrClosed is returned by Insert after Close.
var ErrClosed = errors.New("event store is closed")

// New returns a store on pool. It does not own the pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Insert implements server.Store: one transaction per request, so a request
// is stored whole or not at all, and one INSERT per event inside it.
func (s *Store) Insert(ctx context.Context, req server.Request) (server.Receipt, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return server.Receipt{}, ErrClosed
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return server.Receipt{}, fmt.Errorf("begin: %w", err)
	}
	// After a successful Commit this does nothing; on every other way out
	// it undoes the events inserted so far.
	defer tx.Rollback(context.WithoutCancel(ctx))
	if req.Key != "" {
		claims, err := postgres.ClaimKeys(ctx, tx, []server.Request{req})
		if err != nil {
			return server.Receipt{}, err
		}
		if c := claims[0]; !c.New {
			return c.Prior, c.Err
		}
	}
	for i, e := range req.Events {
		_, err := tx.Exec(ctx,
			`INSERT INTO events (request_id, line, ts, user_id, path, status, latency_ms, bytes)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			req.ID, i+1, e.Time, e.UserID, e.Path, e.Status, e.LatencyMS, e.Bytes)
		if err != nil {
			return server.Receipt{}, fmt.Errorf("insert event %d of %d: %w", i+1, len(req.Events), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return server.Receipt{}, server.Uncertain(fmt.Errorf("commit: %w", err))
	}
	return server.Receipt{RequestID: req.ID, Accepted: len(req.Events)}, nil
}

// Recent implements server.Store.
func (s *Store) Recent(ctx context.Context, userID int64, limit int) ([]server.StoredEvent, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT id FROM events WHERE user_id = $1 ORDER BY ts DESC, id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("list event ids: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list event ids: %w", err)
	}

	events := make([]server.StoredEvent, 0, len(ids))
	for _, id := range ids {
		var e server.StoredEvent
		err := s.pool.QueryRow(ctx,
			`SELECT id, request_id::text, line, ts, user_id, path, status, latency_ms, bytes
			 FROM events WHERE id = $1`, id).
			Scan(&e.ID, &e.RequestID, &e.Line, &e.Time, &e.UserID, &e.Path, &e.Status, &e.LatencyMS, &e.Bytes)
		if err != nil {
			return nil, fmt.Errorf("load event %d: %w", id, err)
		}
		e.Route = server.Route(e.Path)
		events = append(events, e)
	}
	return events, nil
}

// Close implements server.Store: it waits for the Inserts in flight and
// refuses new ones. The pool belongs to the caller.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}
