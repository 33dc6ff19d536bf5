package server

import (
	"expvar"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/felixge/fgprof"
)

// Admin returns the handler for the admin listener: net/http/pprof's
// profiles under /debug/pprof/, fgprof's wall-clock profile at /debug/fgprof
// and expvar's counters at /debug/vars. It must never be served on the public listener: profiles
// reveal the code, and a CPU profile request costs the server seconds of work.
func Admin() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, allocs, mutex, block, goroutine...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// fgprof samples every goroutine, running or waiting, so it shows where
	// wall-clock time goes: the view that finds blocking (lab 5).
	mux.Handle("/debug/fgprof", fgprof.Handler())
	// expvar's memstats give exact allocation and GC counts, which the lab
	// runner turns into allocations per request and GC cycles.
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such admin endpoint %s; try /debug/pprof/ or /debug/fgprof?seconds=10", r.URL.Path))
	})
	return mux
}

// CheckAdminAddr returns an error unless addr listens on a loopback address
// only, or allowRemote is set. An empty host (":6060") listens everywhere and
// is refused too.
func CheckAdminAddr(addr string, allowRemote bool) error {
	if allowRemote {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("admin address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("admin address %q is not loopback: profiles expose the code and cost CPU; use 127.0.0.1:PORT, or pass -admin-allow-remote if you really mean it", addr)
}
