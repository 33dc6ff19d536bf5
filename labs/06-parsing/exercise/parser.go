package exercise

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flamelab/flamelab/server"
)

// pair matches one key=value token. Named groups document the intent, as
// they do in most real parsers of this kind.
var pair = regexp.MustCompile(`^(?P<key>[^=]*)=(?P<value>.*)$`)

var (
	keyGroup   = pair.SubexpIndex("key")
	valueGroup = pair.SubexpIndex("value")
)

// Parser parses access-log lines; see package server for the grammar.
type Parser struct{}

// New returns the baseline parser.
func New() Parser { return Parser{} }

// Parse implements server.Parser.
func (Parser) Parse(line []byte) (server.Event, error) {
	var ev server.Event
	// strings.Fields splits on any Unicode space; the grammar allows only
	// spaces and tabs, so other separators are rejected explicitly.
	s := string(line)
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' && r != '\t' }) {
		return ev, server.ErrMalformed(line)
	}
	tokens := strings.Fields(s)
	if len(tokens) == 0 {
		return ev, server.ErrEmptyLine()
	}

	values := make(map[string]string, len(server.Fields))
	for _, tok := range tokens {
		m := pair.FindStringSubmatch(tok)
		if m == nil {
			return ev, server.ErrMalformed([]byte(tok))
		}
		key, value := m[keyGroup], m[valueGroup]
		if !known(key) {
			return ev, server.ErrUnknownKey([]byte(key))
		}
		if _, dup := values[key]; dup {
			return ev, server.ErrDuplicate(key)
		}
		if value == "" {
			return ev, server.ErrEmptyValue(key)
		}
		values[key] = value
	}
	for _, key := range server.Fields {
		if _, ok := values[key]; !ok {
			return ev, server.ErrMissing(key)
		}
	}

	var err error
	if ev.Time, err = time.Parse(time.RFC3339, values["ts"]); err != nil {
		return ev, server.ErrTime([]byte(values["ts"]))
	}
	if ev.UserID, err = parseInt("user", values["user"], 0, 1<<63-1); err != nil {
		return ev, err
	}
	if ev.Path = values["path"]; !strings.HasPrefix(ev.Path, "/") {
		return ev, server.ErrPath([]byte(ev.Path))
	}
	if !utf8.ValidString(ev.Path) || strings.IndexByte(ev.Path, 0) >= 0 {
		return ev, server.ErrPathBytes([]byte(ev.Path))
	}
	status, err := parseInt("status", values["status"], server.MinStatus, server.MaxStatus)
	if err != nil {
		return ev, err
	}
	ev.Status = int(status)
	latency, err := parseInt("latency_ms", values["latency_ms"], 0, server.MaxLatencyMS)
	if err != nil {
		return ev, err
	}
	ev.LatencyMS = int(latency)
	if ev.Bytes, err = parseInt("bytes", values["bytes"], 0, 1<<63-1); err != nil {
		return ev, err
	}
	return ev, nil
}

func known(key string) bool {
	for _, k := range server.Fields {
		if k == key {
			return true
		}
	}
	return false
}

// parseInt accepts plain decimal digits only: strconv.ParseInt alone would
// also take a sign.
func parseInt(key, s string, lo, hi int64) (int64, error) {
	if s[0] == '+' || s[0] == '-' {
		return 0, server.ErrNotInt(key, []byte(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, server.ErrRange(key, []byte(s), lo, hi)
		}
		return 0, server.ErrNotInt(key, []byte(s))
	}
	if n < lo || n > hi {
		return 0, server.ErrRange(key, []byte(s), lo, hi)
	}
	return n, nil
}
