package server

import "strings"

// Route returns path with its identifier segments replaced by ":id", so that
// /users/42/cart and /users/43/cart count as one route in /stats. A segment is
// an identifier when it is all digits, or at least 16 characters of hex digits
// and dashes (UUIDs, hashes). The query string, if any, is dropped.
//
// Route is the Enricher's work; it is shared so that every implementation of
// lab 1 computes the same routes and differs only in how it schedules them.
func Route(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !hasIdentifier(path) {
		return path // the common case: no allocation
	}
	var b strings.Builder
	b.Grow(len(path))
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		if isIdentifier(seg) {
			b.WriteString(":id")
		} else {
			b.WriteString(seg)
		}
	}
	return b.String()
}

func hasIdentifier(path string) bool {
	for seg := range strings.SplitSeq(path, "/") {
		if isIdentifier(seg) {
			return true
		}
	}
	return false
}

func isIdentifier(seg string) bool {
	if seg == "" {
		return false
	}
	digits, hex := true, len(seg) >= 16
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		isDigit := c >= '0' && c <= '9'
		if !isDigit {
			digits = false
		}
		if !isDigit && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != '-' {
			hex = false
		}
	}
	return digits || hex
}
