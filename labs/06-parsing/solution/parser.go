package solution

import (
	"bytes"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flamelab/flamelab/server"
)

// Parser parses access-log lines; see package server for the grammar.
type Parser struct{}

// New returns the reference parser.
func New() Parser { return Parser{} }

// Field slots, in the order of server.Fields.
const (
	fTS = iota
	fUser
	fPath
	fStatus
	fLatency
	fBytes
	nFields
)

func slot(key []byte) int {
	switch string(key) { // no allocation: the compiler compares in place
	case "ts":
		return fTS
	case "user":
		return fUser
	case "path":
		return fPath
	case "status":
		return fStatus
	case "latency_ms":
		return fLatency
	case "bytes":
		return fBytes
	}
	return -1
}

// Parse implements server.Parser.
func (Parser) Parse(line []byte) (server.Event, error) {
	var ev server.Event
	if otherSpace(line) {
		return ev, server.ErrMalformed(line)
	}

	var vals [nFields][]byte
	var seen [nFields]bool
	tokens := 0
	for rest := line; ; {
		rest = trimBlank(rest)
		if len(rest) == 0 {
			break
		}
		end := tokenEnd(rest)
		tok := rest[:end]
		rest = rest[end:]
		tokens++

		eq := bytes.IndexByte(tok, '=')
		if eq < 0 {
			return ev, server.ErrMalformed(tok)
		}
		key, value := tok[:eq], tok[eq+1:]
		f := slot(key)
		if f < 0 {
			return ev, server.ErrUnknownKey(key)
		}
		if seen[f] {
			return ev, server.ErrDuplicate(server.Fields[f])
		}
		if len(value) == 0 {
			return ev, server.ErrEmptyValue(server.Fields[f])
		}
		seen[f], vals[f] = true, value
	}
	if tokens == 0 {
		return ev, server.ErrEmptyLine()
	}
	for f, ok := range seen {
		if !ok {
			return ev, server.ErrMissing(server.Fields[f])
		}
	}

	var ok bool
	if ev.Time, ok = parseTime(vals[fTS]); !ok {
		return ev, server.ErrTime(vals[fTS])
	}
	var err error
	if ev.UserID, err = parseInt(fUser, vals[fUser], 0, 1<<63-1); err != nil {
		return ev, err
	}
	path := vals[fPath]
	if path[0] != '/' {
		return ev, server.ErrPath(path)
	}
	if !utf8.Valid(path) || bytes.IndexByte(path, 0) >= 0 {
		return ev, server.ErrPathBytes(path)
	}
	ev.Path = string(path) // the one allocation: it outlives the body
	status, err := parseInt(fStatus, vals[fStatus], server.MinStatus, server.MaxStatus)
	if err != nil {
		return ev, err
	}
	ev.Status = int(status)
	latency, err := parseInt(fLatency, vals[fLatency], 0, server.MaxLatencyMS)
	if err != nil {
		return ev, err
	}
	ev.LatencyMS = int(latency)
	if ev.Bytes, err = parseInt(fBytes, vals[fBytes], 0, 1<<63-1); err != nil {
		return ev, err
	}
	return ev, nil
}

// otherSpace reports whether line holds a Unicode space other than ' ' and
// '\t': the grammar separates tokens with those two only, and the baseline
// (strings.Fields) would split on the others, so both reject such lines.
// ASCII is checked byte by byte; only non-ASCII bytes are decoded.
func otherSpace(line []byte) bool {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c < utf8.RuneSelf {
			if c == '\n' || c == '\v' || c == '\f' || c == '\r' {
				return true
			}
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		if unicode.IsSpace(r) {
			return true
		}
		i += size - 1
	}
	return false
}

func trimBlank(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// tokenEnd returns the index of the first space or tab in b, or len(b).
// Tabs are rare, so find the space with IndexByte and look for a tab only
// before it.
func tokenEnd(b []byte) int {
	end := bytes.IndexByte(b, ' ')
	if end < 0 {
		end = len(b)
	}
	if tab := bytes.IndexByte(b[:end], '\t'); tab >= 0 {
		return tab
	}
	return end
}

// parseInt parses plain decimal digits into [lo, hi], with the baseline's
// errors. Up to 18 digits cannot overflow an int64, so they are added up
// directly; longer values go to strconv, which decides exactly as the
// baseline does which of "not an integer" and "out of range" applies.
func parseInt(f int, v []byte, lo, hi int64) (int64, error) {
	key := server.Fields[f]
	if len(v) > 18 {
		return parseIntSlow(key, v, lo, hi)
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, server.ErrNotInt(key, v)
		}
		n = n*10 + int64(c-'0')
	}
	if n < lo || n > hi {
		return 0, server.ErrRange(key, v, lo, hi)
	}
	return n, nil
}

func parseIntSlow(key string, v []byte, lo, hi int64) (int64, error) {
	if v[0] == '+' || v[0] == '-' {
		return 0, server.ErrNotInt(key, v)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, server.ErrRange(key, v, lo, hi)
		}
		return 0, server.ErrNotInt(key, v)
	}
	if n < lo || n > hi {
		return 0, server.ErrRange(key, v, lo, hi)
	}
	return n, nil
}

// parseTime decodes the common layout 2006-01-02T15:04:05Z by hand and
// leaves every other string, valid or not, to time.Parse: the fast path only
// accepts what time.Parse would accept, with the same result.
func parseTime(v []byte) (time.Time, bool) {
	if t, ok := fastTime(v); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339, string(v))
	return t, err == nil
}

func fastTime(v []byte) (time.Time, bool) {
	if len(v) != 20 || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' || v[19] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		x := 0
		for _, c := range v[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			x = x*10 + int(c-'0')
		}
		return x, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false // let time.Parse produce the verdict
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)%2)
}
