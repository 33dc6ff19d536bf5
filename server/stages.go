package server

import (
	"context"
	"io"
	"time"
)

// The seven stages below are the seven places where the server is slow, one
// per lab. Each interface is as small as the request path needs, so a lab's
// baseline, its solution and a learner's exercise are interchangeable.

// BodyReader splits a request body into lines (lab 2, 02-buffers).
type BodyReader interface {
	// ReadLines reads body to the end and returns its lines without their
	// line endings ("\n" or "\r\n"). A final line ending does not start a new
	// line; any other empty line is returned as an empty line. The lines stay
	// valid until release is called, and release must be called exactly once
	// (also after an error). Errors from body, such as *http.MaxBytesError,
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
	// Append returns nil only once record is on stable storage.
	Append(ctx context.Context, record []byte) error
	// Close flushes and closes the trail; Append must not be called after.
	Close() error
}

// Store keeps events in Postgres (lab 7, 07-batching).
type Store interface {
	// Insert returns nil only once every event is committed. requestID and
	// the 1-based line number are stored with each event.
	Insert(ctx context.Context, requestID string, events []Event) error
	// Recent returns a user's newest events first, at most limit of them.
	Recent(ctx context.Context, userID int64, limit int) ([]StoredEvent, error)
	// Close waits for work in flight; Insert must not be called after.
	Close() error
}

// Stages is one implementation of each stage: the server is assembled from
// them (see package labs for the implementations).
type Stages struct {
	BodyReader BodyReader // lab 2
	Parser     Parser     // lab 6
	Enricher   Enricher   // lab 1
	Encoder    Encoder    // lab 4
	Stats      Stats      // lab 3
	Auditor    Auditor    // lab 5
	Store      Store      // lab 7
}
