package exercise

import (
	"encoding/json"
	"io"
	"time"

	"github.com/flamelab/flamelab/server"
)

// Encoder encodes audit records and responses as JSON.
type Encoder struct{}

// New returns the baseline encoder.
func New() Encoder { return Encoder{} }

// AuditRecord implements server.Encoder.
func (Encoder) AuditRecord(requestID string, received time.Time, events []server.Event) ([]byte, error) {
	var records []map[string]any
	for _, e := range events {
		records = append(records, eventMap(e))
	}
	return json.Marshal(map[string]any{
		"request_id": requestID,
		"received":   received.Format(time.RFC3339Nano),
		"count":      len(events),
		"events":     records,
	})
}

// WriteAccepted implements server.Encoder.
func (Encoder) WriteAccepted(w io.Writer, requestID string, accepted int) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"request_id": requestID,
		"accepted":   accepted,
	})
}

// WriteEvents implements server.Encoder.
func (Encoder) WriteEvents(w io.Writer, userID int64, events []server.StoredEvent) error {
	var records []map[string]any
	for _, e := range events {
		m := eventMap(e.Event)
		m["id"] = e.ID
		m["request_id"] = e.RequestID
		m["line"] = e.Line
		records = append(records, m)
	}
	if records == nil {
		records = []map[string]any{} // [] rather than null for a user without events
	}
	return json.NewEncoder(w).Encode(map[string]any{
		"user":   userID,
		"count":  len(records),
		"events": records,
	})
}

func eventMap(e server.Event) map[string]any {
	return map[string]any{
		"ts":         e.Time.Format(time.RFC3339Nano),
		"user":       e.UserID,
		"path":       e.Path,
		"route":      e.Route,
		"status":     e.Status,
		"latency_ms": e.LatencyMS,
		"bytes":      e.Bytes,
	}
}
