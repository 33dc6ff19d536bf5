package server

import (
	"context"
	"net/http"
	"runtime/pprof"
)

// Profiler labels: every stage call runs under the labels route=ROUTE and
// stage=STAGE, so any CPU or goroutine profile of the server can be cut by
// stage, e.g.
//
//	go tool pprof -tagfocus=stage=parse cpu.pb.gz
//	go tool pprof -tags cpu.pb.gz          # the CPU time per stage and route
//
// A goroutine a stage starts inherits the labels (lab 1's baseline's
// goroutine per event counts as stage=enrich); a goroutine started before
// the request, such as lab 7's batch writer, keeps its own.
//
// runtime/pprof.Do would build a label set and a context on every call;
// here each (route, stage) pair's set is built once, in New, and a stage
// call only points the goroutine at it (pprof.SetGoroutineLabels), which
// allocates nothing. lab 10's README measures what the labels cost.

// The stage label's values.
const (
	StageRead   = "read"   // BodyReader (lab 2)
	StageParse  = "parse"  // Parser (lab 6)
	StageEnrich = "enrich" // Enricher (lab 1)
	StageStore  = "store"  // Store (lab 7, 8)
	StageStats  = "stats"  // Stats (lab 3)
	StageEncode = "encode" // Encoder (lab 4)
	StageAudit  = "audit"  // Auditor (lab 5)
)

// The route label's values: the API's patterns.
const (
	RouteEvents     = "POST /events"
	RouteStats      = "GET /stats"
	RouteUserEvents = "GET /users/{id}/events"
)

// labels are the prebuilt label sets, one per route and stage; nil when
// Config.NoLabels is set.
type labels map[[2]string]context.Context

func newLabels() labels {
	l := labels{}
	stages := map[string][]string{
		RouteEvents:     {"", StageRead, StageParse, StageEnrich, StageStore, StageStats, StageEncode, StageAudit},
		RouteStats:      {"", StageStats},
		RouteUserEvents: {"", StageStore, StageEncode},
	}
	for route, ss := range stages {
		for _, st := range ss {
			set := pprof.Labels("route", route)
			if st != "" {
				set = pprof.Labels("route", route, "stage", st)
			}
			l[[2]string{route, st}] = pprof.WithLabels(context.Background(), set)
		}
	}
	return l
}

// set labels the calling goroutine with route and stage ("": the route
// only). It does nothing when labels are off.
func (l labels) set(route, stage string) {
	if l != nil {
		pprof.SetGoroutineLabels(l[[2]string{route, stage}])
	}
}

// route wraps h so the goroutine carries route's label while h runs, and
// the labels it had before afterwards: net/http serves a keep-alive
// connection's next request on the same goroutine.
func (l labels) route(route string, h http.HandlerFunc) http.HandlerFunc {
	if l == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		l.set(route, "")
		defer pprof.SetGoroutineLabels(r.Context())
		h(w, r)
	}
}
