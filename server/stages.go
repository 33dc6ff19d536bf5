package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// The stages below are the places where the server is slow, one per lab:
// seven on the request path (the article's tricks), lab 8's pipeline,
// which runs inside lab 7's batching store, and lab 10's key sweeper, which
// runs beside the requests. Each interface is as small as
// its caller needs, so a lab's baseline, its solution and a learner's
// exercise are interchangeable.

// BodyReader splits a request body into lines (lab 2, 02-buffers).
type BodyReader interface {
	// ReadLines reads body to the end and returns its lines without their
	// line endings ("\n" or "\r\n"). A final line ending does not start a new
	// line; any other empty line is returned as an empty line. The lines stay
	// valid until release is called, and release must be called once (also
	// after an error); a second call must do nothing, whatever happened in
	// between. Appending to a line never changes another line or the
	// buffer's spare room: a line's capacity ends where the line does (a
	// full slice expression), or it owns what lies beyond. Errors from body, such as *http.MaxBytesError,
	// are returned unwrapped or wrapped with %w.
	ReadLines(body io.Reader) (lines [][]byte, release func(), err error)
}

// Parser parses one access-log line (lab 6, 06-parsing). See ParseError for
// the grammar.
type Parser interface {
	// Parse parses line. It returns a *ParseError for every invalid line,
	// and must not keep line after it returns.
	Parse(line []byte) (Event, error)
}

// Enricher fills the fields derived from the parsed ones (lab 1,
// 01-goroutines), in place, for every event.
type Enricher interface {
	Enrich(events []Event)
}

// Encoder builds the bytes that leave the server (lab 4, 04-copies): the audit
// record of a request and the JSON bodies of successful responses.
type Encoder interface {
	// AuditRecord returns one line of JSON, without the trailing newline,
	// describing an accepted request and all its events.
	AuditRecord(requestID string, received time.Time, events []Event) ([]byte, error)
	// WriteAccepted writes the body of a successful POST /events.
	WriteAccepted(w io.Writer, requestID string, accepted int) error
	// WriteEvents writes the body of GET /users/{id}/events.
	WriteEvents(w io.Writer, userID int64, events []StoredEvent) error
}

// Stats keeps the in-memory aggregates behind GET /stats (lab 3, 03-locks).
// Both methods are called from many goroutines at once.
type Stats interface {
	// Observe adds accepted events to the aggregates.
	Observe(events []Event)
	// WriteJSON writes the aggregates as JSON (see StatsReport).
	WriteJSON(w io.Writer) error
}

// Auditor keeps the durable audit trail (lab 5, 05-blocking).
type Auditor interface {
	// Append returns nil only once record is on stable storage. The
	// server calls it after the commit with a context the client cannot
	// cancel (a stored request is audited whether or not its client is
	// still listening), bounded by the store's timeout: an implementation
	// may give up when ctx ends, and must say so.
	Append(ctx context.Context, record []byte) error
	// Close flushes and closes the trail; Append must not be called after.
	Close() error
}

// Store keeps events in Postgres (lab 7, 07-batching).
type Store interface {
	// Insert stores the events of one request, all or nothing: when it
	// returns nil every event is committed, and when it returns an error
	// none is, unless the error wraps ErrUncertain (the commit was sent and
	// its answer lost), in which case they may be. Each event is stored
	// with req.ID and its 1-based line number.
	//
	// A request with a Key is stored at most once per key, in the same
	// transaction as its events, so the guarantee survives a crash: a later
	// request with the same key and the same Digest stores nothing and gets
	// the first request's Receipt with Replayed set; one with the same key
	// and another Digest gets ErrKeyReused and stores nothing.
	Insert(ctx context.Context, req Request) (Receipt, error)
	// Recent returns a user's newest events first, at most limit of them.
	Recent(ctx context.Context, userID int64, limit int) ([]StoredEvent, error)
	// Close returns once every Insert in flight has finished (its events
	// written, or its error returned) and refuses Inserts after it.
	Close() error
}

// Pipeline runs a batching store's batches (lab 8, 08-pipeline): the
// store gathers queued requests into a batch and writes it in one
// transaction; the pipeline decides when the next batch is gathered, and so
// how many are in flight at once. The server never calls it: lab 7's
// solution does, and lab 7's baseline, which writes each request on its
// own, has no batches to run.
type Pipeline interface {
	// Run calls next for a batch and then its flush, until next reports
	// that there are none left (the store is closed and its queue
	// drained), and returns once every flush it started has returned.
	// next blocks until a request is queued or the store closes, and must
	// not be called again before it returns; a flush may run beside other
	// flushes and beside next. Every flush next returns must be called,
	// exactly once: its requests wait for it.
	Run(next func() (flush func(), ok bool))
}

// Sweeper forgets the Idempotency-Keys stored before a time (lab 10,
// 10-production), so the requests table does not grow with every keyed
// request. The server never calls it: the binary runs it now and then
// (every hour by default), beside the requests, which is what makes how it
// deletes a question of tail latency.
type Sweeper interface {
	// Sweep deletes every key stored before cutoff and returns how many.
	// It may return early when ctx ends, with the count so far and ctx's
	// error; the keys it did not reach are deleted by the next sweep.
	Sweep(ctx context.Context, cutoff time.Time) (int64, error)
}

// Request is one POST /events as the Store stores it.
type Request struct {
	ID     string   // a new UUID for this request
	Key    string   // the Idempotency-Key header; "" for none
	Digest [32]byte // SHA-256 of the events as received (see BodyDigest); set when Key is
	Events []Event
}

// Receipt is what Insert stored, or had stored before under the same key.
type Receipt struct {
	RequestID string // the request the events are stored under
	Accepted  int    // how many events
	Replayed  bool   // a retry: the key was stored before, nothing new was
}

// ErrKeyReused is returned by Store.Insert for a key already stored with
// another body.
var ErrKeyReused = errors.New("this Idempotency-Key was used before for a different body")

// ErrUncertain is wrapped by a Store error after which the events may or may
// not be committed: the commit was sent, and the connection died or timed
// out before its answer. Only a retry with the same Idempotency-Key is then
// safe.
var ErrUncertain = errors.New("the database did not confirm the commit: the events may be stored")

// Uncertain wraps err, which ended a commit whose outcome is unknown, with
// ErrUncertain, unless pgconn says nothing of it reached the server.
func Uncertain(err error) error {
	if err == nil || pgconn.SafeToRetry(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUncertain, err)
}

// BodyDigest is the Digest of a request's lines: what a retry must repeat
// for its key to be honoured. Line endings do not count.
func BodyDigest(lines [][]byte) [32]byte {
	h := sha256.New()
	for _, l := range lines {
		h.Write(l)
		h.Write([]byte{'\n'})
	}
	return [32]byte(h.Sum(nil))
}

// Stages is one implementation of each stage: the server is assembled from
// them (see package labs for the implementations). Pipeline may be nil (a
// store that does not batch ignores it); so may Sweeper, which runs beside
// the server, not in it.
type Stages struct {
	BodyReader BodyReader // lab 2
	Parser     Parser     // lab 6
	Enricher   Enricher   // lab 1
	Encoder    Encoder    // lab 4
	Stats      Stats      // lab 3
	Auditor    Auditor    // lab 5
	Store      Store      // lab 7
	Pipeline   Pipeline   // lab 8: the Store's, if it batches; the server does not call it
	Sweeper    Sweeper    // lab 10: run beside the server (labs/cmd/flamelab-server); the server does not call it
}
