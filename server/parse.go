package server

import "fmt"

// The access-log line grammar, which every Parser implements exactly:
//
//   - a line is tokens separated by one or more spaces or tabs; leading and
//     trailing spaces and tabs are ignored;
//   - every token is key=value with a non-empty value and no spaces;
//   - the keys are ts, user, path, status, latency_ms and bytes, each exactly
//     once, in any order; no other key is allowed;
//   - ts is RFC 3339 (time.RFC3339, fractional seconds allowed);
//   - user, latency_ms and bytes are decimal integers >= 0 that fit in an
//     int64 (latency_ms: an int32), without sign or spaces;
//   - status is a decimal integer from 100 to 599;
//   - path starts with '/', is valid UTF-8 and holds no NUL byte (Postgres
//     text cannot store either).
//
// When a line has several problems, ParseError names the first found in this
// order: token problems (malformed, unknown key, duplicate, empty value),
// scanning left to right; then missing keys, in the order of Fields; then
// value problems, in the order of Fields.

// Fields lists the keys of an access-log line in canonical order.
var Fields = [...]string{"ts", "user", "path", "status", "latency_ms", "bytes"}

// ParseError is the error every Parser returns for an invalid line.
type ParseError struct {
	Field  string // the key concerned; "" for problems with the line as a whole
	Reason string // what is wrong, for a person
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// The constructors below are the only way a Parser should build its errors,
// so that every implementation reports the same message for the same line.

// quote shows at most 40 bytes of b, quoted, so one very long token cannot
// blow up an error response.
func quote(b []byte) string {
	const max = 40
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// ErrEmptyLine reports a line with no tokens.
func ErrEmptyLine() *ParseError { return &ParseError{Reason: "empty line"} }

// ErrMalformed reports a token that is not key=value.
func ErrMalformed(token []byte) *ParseError {
	return &ParseError{Reason: "malformed token " + quote(token) + ": want key=value"}
}

// ErrUnknownKey reports a key outside Fields.
func ErrUnknownKey(key []byte) *ParseError {
	return &ParseError{Reason: "unknown key " + quote(key) + ": want ts, user, path, status, latency_ms, bytes"}
}

// ErrDuplicate reports a key given twice.
func ErrDuplicate(key string) *ParseError { return &ParseError{Field: key, Reason: "given twice"} }

// ErrEmptyValue reports key= with nothing after the '='.
func ErrEmptyValue(key string) *ParseError { return &ParseError{Field: key, Reason: "empty value"} }

// ErrNotInt reports a value that is not a non-negative decimal integer.
func ErrNotInt(key string, value []byte) *ParseError {
	return &ParseError{Field: key, Reason: "not a non-negative integer: " + quote(value)}
}

// ErrRange reports an integer outside [lo, hi].
func ErrRange(key string, value []byte, lo, hi int64) *ParseError {
	return &ParseError{Field: key, Reason: fmt.Sprintf("%s out of range [%d, %d]", quote(value), lo, hi)}
}

// ErrTime reports a ts that is not RFC 3339.
func ErrTime(value []byte) *ParseError {
	return &ParseError{Field: "ts", Reason: "not an RFC 3339 time: " + quote(value)}
}

// ErrPath reports a path that does not start with '/'.
func ErrPath(value []byte) *ParseError {
	return &ParseError{Field: "path", Reason: "must start with '/': " + quote(value)}
}

// ErrPathBytes reports a path that is not valid UTF-8 or holds a NUL byte.
func ErrPathBytes(value []byte) *ParseError {
	return &ParseError{Field: "path", Reason: "must be valid UTF-8 without NUL bytes: " + quote(value)}
}

// ErrMissing reports a key the line lacks.
func ErrMissing(key string) *ParseError { return &ParseError{Field: key, Reason: "missing"} }

// Limits of the integer fields, inclusive.
const (
	MinStatus    = 100
	MaxStatus    = 599
	MaxLatencyMS = 1<<31 - 1
)
