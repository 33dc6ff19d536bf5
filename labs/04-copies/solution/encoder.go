package solution

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/flamelab/flamelab/server"
)

// Encoder encodes audit records and responses as JSON by appending.
type Encoder struct{}

// New returns the solution's encoder.
func New() Encoder { return Encoder{} }

// buffers are reused between requests; one that grew past maxPooled for a
// huge page is left to the GC rather than kept.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 256 << 10

func getBuf() *[]byte { return buffers.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// AuditRecord implements server.Encoder. Keys are in encoding/json's
// order for maps: sorted.
func (Encoder) AuditRecord(requestID string, received time.Time, events []server.Event) ([]byte, error) {
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"count":`...)
	b = strconv.AppendInt(b, int64(len(events)), 10)
	b = append(b, `,"events":`...)
	if len(events) == 0 {
		b = append(b, "null"...) // the baseline's slice of maps is nil then: encoding/json writes null
	} else {
		b = append(b, '[')
		for i := range events {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendEvent(b, &events[i], nil)
		}
		b = append(b, ']')
	}
	b = append(b, `,"received":"`...)
	b = received.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","request_id":`...)
	b = appendString(b, requestID)
	b = append(b, '}')
	*bp = b
	// The record outlives this call (the auditor writes it): the one
	// allocation, of exactly its size.
	return append([]byte(nil), b...), nil
}

// WriteAccepted implements server.Encoder.
func (Encoder) WriteAccepted(w io.Writer, requestID string, accepted int) error {
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"accepted":`...)
	b = strconv.AppendInt(b, int64(accepted), 10)
	b = append(b, `,"request_id":`...)
	b = appendString(b, requestID)
	b = append(b, "}\n"...)
	*bp = b
	_, err := w.Write(b)
	return err
}

// WriteEvents implements server.Encoder.
func (Encoder) WriteEvents(w io.Writer, userID int64, events []server.StoredEvent) error {
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"count":`...)
	b = strconv.AppendInt(b, int64(len(events)), 10)
	b = append(b, `,"events":[`...)
	for i := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEvent(b, &events[i].Event, &events[i])
	}
	b = append(b, `],"user":`...)
	b = strconv.AppendInt(b, userID, 10)
	b = append(b, "}\n"...)
	*bp = b
	_, err := w.Write(b)
	return err
}

// appendEvent appends one event object; with stored, also its id,
// request_id and line, each in its sorted place.
func appendEvent(b []byte, e *server.Event, stored *server.StoredEvent) []byte {
	b = append(b, `{"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	if stored != nil {
		b = append(b, `,"id":`...)
		b = strconv.AppendInt(b, stored.ID, 10)
	}
	b = append(b, `,"latency_ms":`...)
	b = strconv.AppendInt(b, int64(e.LatencyMS), 10)
	if stored != nil {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(stored.Line), 10)
	}
	b = append(b, `,"path":`...)
	b = appendString(b, e.Path)
	if stored != nil {
		b = append(b, `,"request_id":`...)
		b = appendString(b, stored.RequestID)
	}
	b = append(b, `,"route":`...)
	b = appendString(b, e.Route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"ts":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","user":`...)
	b = strconv.AppendInt(b, e.UserID, 10)
	return append(b, '}')
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// with HTML escaping on (its default): quotes and backslashes; \b \f \n \r
// \t by name and other control bytes as \u00XX; <, > and & as \u003c,
// \u003e and \u0026; U+2028 and U+2029 as themselves escaped (JavaScript
// treats them as line ends); and every byte of invalid UTF-8 as \ufffd.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is still to be copied as is
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
