package solution

import (
	"cmp"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/flamelab/flamelab/server"
)

// Stats keeps the aggregates behind GET /stats.
type Stats struct {
	mu        sync.Mutex
	events    int64
	bytes     int64
	byRoute   map[string]int64
	byClass   map[string]int64
	perUser   map[int64]int64
	untracked int64 // events of users beyond server.MaxUsers
	latency   server.LatencyHistogram
	sumLatMS  int64
}

// New returns empty statistics.
func New() *Stats {
	return &Stats{
		byRoute: make(map[string]int64),
		byClass: make(map[string]int64),
		perUser: make(map[int64]int64),
	}
}

// Observe implements server.Stats: one lock for the whole request.
func (s *Stats) Observe(events []server.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.events++
		s.bytes += e.Bytes
		s.byRoute[server.RouteKey(s.byRoute, e.Route)]++
		s.byClass[server.StatusClass(e.Status)]++
		if server.TrackUser(s.perUser, e.UserID) {
			s.perUser[e.UserID]++
		} else {
			s.untracked++
		}
		s.latency.Add(e.LatencyMS)
		s.sumLatMS += int64(e.LatencyMS)
	}
}

// WriteJSON implements server.Stats: a snapshot under the lock; the sort and
// the write to the client, which may be slow, outside it.
func (s *Stats) WriteJSON(w io.Writer) error {
	s.mu.Lock()
	report := server.StatsReport{
		Events:              s.events,
		Bytes:               s.bytes,
		ByRoute:             maps.Clone(s.byRoute),
		ByStatusClass:       maps.Clone(s.byClass),
		Latency:             s.latency.Summary(s.sumLatMS),
		UntrackedUserEvents: s.untracked,
	}
	users := make([]server.UserCount, 0, len(s.perUser))
	for u, n := range s.perUser {
		users = append(users, server.UserCount{User: u, Events: n})
	}
	s.mu.Unlock()

	slices.SortFunc(users, func(a, b server.UserCount) int {
		return cmp.Or(cmp.Compare(b.Events, a.Events), cmp.Compare(a.User, b.User))
	})
	report.TopUsers = users[:min(len(users), server.TopUsers)]
	return json.NewEncoder(w).Encode(report)
}
