package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RoundTrips counts the database operations a pool performs, through pgx's
// tracer interfaces: every Exec and Query (BEGIN and COMMIT included), every
// statement preparation (pgx prepares each new statement once per
// connection), every SendBatch (one pipelined round trip however many
// statements it holds) and every CopyFrom (one streamed operation however many
// rows). Lab 07 uses it to prove that batching removed round trips, as a
// count rather than a time; lab 08 to count the batches in flight.
//
// The zero value is ready to use and safe for concurrent use.
type RoundTrips struct {
	queries, prepares, batches, copies atomic.Int64
	copying, copyNanos                 atomic.Int64
}

var (
	_ pgx.QueryTracer    = (*RoundTrips)(nil)
	_ pgx.BatchTracer    = (*RoundTrips)(nil)
	_ pgx.CopyFromTracer = (*RoundTrips)(nil)
	_ pgx.PrepareTracer  = (*RoundTrips)(nil)
)

// Total returns the operations counted so far.
func (r *RoundTrips) Total() int64 {
	return r.queries.Load() + r.prepares.Load() + r.batches.Load() + r.copies.Load()
}

// String lists the counts by kind.
func (r *RoundTrips) String() string {
	return fmt.Sprintf("%d queries, %d prepares, %d batches, %d copies",
		r.queries.Load(), r.prepares.Load(), r.batches.Load(), r.copies.Load())
}

// Reset sets every count to zero.
func (r *RoundTrips) Reset() {
	r.queries.Store(0)
	r.prepares.Store(0)
	r.batches.Store(0)
	r.copies.Store(0)
	r.copyNanos.Store(0) // not copying: those in flight are still in flight
}

// TraceQueryStart implements pgx.QueryTracer.
func (r *RoundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (r *RoundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TracePrepareStart implements pgx.PrepareTracer.
func (r *RoundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.prepares.Add(1)
	return ctx
}

// TracePrepareEnd implements pgx.PrepareTracer.
func (r *RoundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (r *RoundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer; the batch was counted once.
func (r *RoundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd implements pgx.BatchTracer.
func (r *RoundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (r *RoundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	r.copies.Add(1)
	r.copying.Add(1)
	return context.WithValue(ctx, copyStart{}, time.Now())
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (r *RoundTrips) TraceCopyFromEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromEndData) {
	r.copying.Add(-1)
	if start, ok := ctx.Value(copyStart{}).(time.Time); ok {
		r.copyNanos.Add(time.Since(start).Nanoseconds())
	}
}

type copyStart struct{}

// Copies returns the COPYs started so far, and how many of them have not
// ended: with the commit held up (lab 08's budget), the batches in flight.
func (r *RoundTrips) Copies() (started, inFlight int64) {
	return r.copies.Load(), r.copying.Load()
}

// CopySeconds returns the time spent in COPYs so far, summed over the
// connections: over an interval, its growth divided by the interval's
// length is the mean number of COPYs in flight (Little's law). Outside a
// transaction a COPY is its own, so for a batch without idempotency keys
// this includes its commit.
func (r *RoundTrips) CopySeconds() float64 { return float64(r.copyNanos.Load()) / 1e9 }

// NewPool opens a pool to url whose operations are counted by trips, for
// tests and tools that need to see what a store does.
func NewPool(ctx context.Context, url string, trips *RoundTrips) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.Tracer = trips
	return pgxpool.NewWithConfig(ctx, cfg)
}
