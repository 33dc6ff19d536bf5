// Package solution is lab 04's reference fix: JSON written by appending to
// one reused buffer, from typed values, with nothing boxed and nothing
// copied that does not leave the server.
//
// The baseline builds a map[string]any per event (a map, seven interface
// boxes, a formatted time string) and hands it to encoding/json, which
// reflects over every one of them and sorts the keys of every map. The
// output is the same bytes here: the keys in the order encoding/json sorts
// them, numbers with strconv.AppendInt, times with time.Time.AppendFormat,
// and strings escaped exactly as encoding/json escapes them (the fuzz test
// holds it to that, invalid UTF-8 and U+2028 included). The only allocation
// left per request is the audit record itself, which must outlive the call.
package solution
