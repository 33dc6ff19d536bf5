package exercise

import (
	"encoding/json"
	"io"
	"sort"
	"sync"

	"github.com/flamelab/flamelab/server"
)

// Stats keeps the aggregates behind GET /stats.
type Stats struct {
	mu      sync.Mutex
	events  int64
	bytes   int64
	byRoute map[string]int64
	byClass map[string]int64
	perUser map[int64]int64
	// untracked counts the events of users beyond server.MaxUsers.
	untracked int64
	latency   server.LatencyHistogram
	sumLatMS  int64
}

// New returns empty baseline statistics.
func New() *Stats {
	return &Stats{
		byRoute: make(map[string]int64),
		byClass: make(map[string]int64),
		perUser: make(map[int64]int64),
	}
}

// Observe implements server.Stats.
func (s *Stats) Observe(events []server.Event) {
	for _, e := range events {
		s.mu.Lock()
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
		s.mu.Unlock()
	}
}

// WriteJSON implements server.Stats.
func (s *Stats) WriteJSON(w io.Writer) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	users := make([]server.UserCount, 0, len(s.perUser))
	for u, n := range s.perUser {
		users = append(users, server.UserCount{User: u, Events: n})
	}
	sort.Slice(users, func(i, j int) bool {
		if users[i].Events != users[j].Events {
			return users[i].Events > users[j].Events
		}
		return users[i].User < users[j].User
	})
	if len(users) > server.TopUsers {
		users = users[:server.TopUsers]
	}
	report := server.StatsReport{
		Events:        s.events,
		Bytes:         s.bytes,
		ByRoute:       s.byRoute,
		ByStatusClass: s.byClass,
		Latency:       s.latency.Summary(s.sumLatMS),
		TopUsers:      users,

		UntrackedUserEvents: s.untracked,
	}
	return json.NewEncoder(w).Encode(report)
}
