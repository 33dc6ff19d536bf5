package server

import (
	"math"
	"math/bits"
)

// StatsReport is the JSON body of GET /stats. Every Stats implementation
// writes this shape, so their outputs can be compared.
type StatsReport struct {
	Events        int64            `json:"events"`          // accepted events since start
	Bytes         int64            `json:"bytes"`           // sum of their bytes= fields
	ByRoute       map[string]int64 `json:"by_route"`        // events per Route
	ByStatusClass map[string]int64 `json:"by_status_class"` // events per "2xx", "4xx", ...
	Latency       LatencySummary   `json:"latency_ms"`
	TopUsers      []UserCount      `json:"top_users"` // at most TopUsers, most events first, then lowest id
	// Memory is bounded whatever clients send: at most MaxRoutes routes
	// are tracked, and the events of further routes count under
	// OtherRoute in ByRoute; at most MaxUsers users are tracked, and
	// UntrackedUserEvents counts the events of the others, which TopUsers
	// cannot rank.
	UntrackedUserEvents int64 `json:"untracked_user_events"`
}

// The bounds of StatsReport.
const (
	MaxRoutes  = 1000
	MaxUsers   = 100_000
	OtherRoute = "(other routes)"
)

// RouteKey returns the key an event of route counts under in byRoute: the
// route itself while fewer than MaxRoutes are tracked (or it is one of
// them), OtherRoute after. Every Stats implementation uses it, so they fold
// the same routes.
func RouteKey(byRoute map[string]int64, route string) string {
	if _, ok := byRoute[route]; ok || len(byRoute) < MaxRoutes {
		return route
	}
	return OtherRoute
}

// TrackUser reports whether user's events are counted in perUser: while
// fewer than MaxUsers are tracked, or it is one of them. The others count in
// StatsReport.UntrackedUserEvents.
func TrackUser(perUser map[int64]int64, user int64) bool {
	_, ok := perUser[user]
	return ok || len(perUser) < MaxUsers
}

// TopUsers is how many users StatsReport lists.
const TopUsers = 10

// UserCount is one entry of StatsReport.TopUsers.
type UserCount struct {
	User   int64 `json:"user"`
	Events int64 `json:"events"`
}

// LatencySummary summarises latency_ms. Percentiles are upper bounds of the
// histogram bucket they fall in (see LatencyHistogram).
type LatencySummary struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	Max   int64   `json:"max"`
}

// StatusClass returns "1xx" to "5xx".
func StatusClass(status int) string {
	return [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}[status/100-1]
}

// LatencyHistogram counts latencies in buckets that double in width: bucket
// 0 holds 0 ms, bucket i holds [2^(i-1), 2^i - 1] ms. Fixed size, so the cost of a
// summary does not grow with traffic. The zero value is empty.
type LatencyHistogram struct {
	Buckets [33]int64
	Count   int64
	Max     int64
}

func bucketOf(ms int) int {
	if ms <= 0 {
		return 0
	}
	return bits.Len(uint(ms))
}

// Add counts one latency.
func (h *LatencyHistogram) Add(ms int) {
	h.Buckets[bucketOf(ms)]++
	h.Count++
	if int64(ms) > h.Max {
		h.Max = int64(ms)
	}
}

// Merge adds o's counts to h.
func (h *LatencyHistogram) Merge(o *LatencyHistogram) {
	for i, n := range o.Buckets {
		h.Buckets[i] += n
	}
	h.Count += o.Count
	h.Max = max(h.Max, o.Max)
}

// Summary summarises h; sum is the sum of all latencies added.
func (h *LatencyHistogram) Summary(sum int64) LatencySummary {
	s := LatencySummary{Count: h.Count, Max: h.Max}
	if h.Count == 0 {
		return s
	}
	s.Mean = math.Round(float64(sum)/float64(h.Count)*100) / 100
	s.P50, s.P90, s.P99 = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99)
	return s
}

func (h *LatencyHistogram) quantile(q float64) int64 {
	rank := int64(math.Ceil(q * float64(h.Count)))
	var seen int64
	for i, n := range h.Buckets {
		seen += n
		if seen >= rank {
			return min(int64(1)<<i-1, h.Max) // the bucket's upper bound, never above the max seen
		}
	}
	return h.Max
}
