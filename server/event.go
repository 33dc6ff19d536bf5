package server

import "time"

// Event is one access-log line, as parsed and enriched.
type Event struct {
	// Set by the Parser (lab 6), from the line's six fields.
	Time      time.Time // ts=, RFC 3339
	UserID    int64     // user=
	Path      string    // path=, as sent
	Status    int       // status=, 100-599
	LatencyMS int       // latency_ms=
	Bytes     int64     // bytes=

	// Set by the Enricher (lab 1).
	Route string // Path with identifiers replaced, e.g. /users/:id/cart; bounded cardinality for /stats
}

// StoredEvent is an Event as the Store returns it.
type StoredEvent struct {
	ID        int64
	RequestID string
	Line      int
	Event
}
