package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// LoopbackOnly serves h only to requests addressed to this machine by a
// loopback name, and refuses cross-site browser requests.
//
// Listening on 127.0.0.1 is not enough on its own. A web page the learner
// opens can make the browser POST to http://127.0.0.1:8080 (a text/plain
// form needs no CORS preflight), and a DNS name that rebinds to 127.0.0.1 can
// make the browser read the answers, pprof included. The Host check stops
// the second (the browser sends the attacker's name); the Origin and
// Sec-Fetch-Site checks stop the first. Command-line clients (curl, the load
// generator, Go's http.Client) send neither header and pass.
func LoopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			writeError(w, http.StatusMisdirectedRequest, "this server answers only to localhost, 127.0.0.1 or [::1]; Host "+quoteHost(r.Host)+" is refused")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "null" {
			if u, err := url.Parse(o); err != nil || !isLoopbackHost(u.Host) {
				writeError(w, http.StatusForbidden, "cross-site requests are refused (Origin "+quoteHost(o)+"); send requests from the command line or a page on this machine")
				return
			}
		} else if r.Header.Get("Sec-Fetch-Site") == "cross-site" || o == "null" {
			writeError(w, http.StatusForbidden, "cross-site requests are refused; send requests from the command line or a page on this machine")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// quoteHost shows at most 100 bytes of a client's header, quoted.
func quoteHost(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return `"` + strings.ToValidUTF8(strings.ReplaceAll(s, `"`, `\"`), "?") + `"`
}
