package server

import "testing"

func TestRoute(t *testing.T) {
	for path, want := range map[string]string{
		"/":                          "/",
		"/cart":                      "/cart",
		"/users/42/cart":             "/users/:id/cart",
		"/users/42/orders/7":         "/users/:id/orders/:id",
		"/o/6f1c2a3b-0d4e-4f5a-9b8c": "/o/:id",
		"/o/cafe":                    "/o/cafe", // short hex is a word, not an id
		"/search?q=1":                "/search",
		"/a//b":                      "/a//b",
	} {
		if got := Route(path); got != want {
			t.Errorf("Route(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestLatencyHistogram(t *testing.T) {
	var h LatencyHistogram
	var sum int64
	for ms := range 100 { // 0..99
		h.Add(ms)
		sum += int64(ms)
	}
	s := h.Summary(sum)
	// p50 is the 50th value, 49, in bucket [32, 63]: reported as 63.
	// p90 and p99 (89, 98) fall in [64, 127], capped at the max, 99.
	want := LatencySummary{Count: 100, Mean: 49.5, P50: 63, P90: 99, P99: 99, Max: 99}
	if s != want {
		t.Errorf("summary = %+v, want %+v", s, want)
	}
	var empty LatencyHistogram
	if s := empty.Summary(0); s != (LatencySummary{}) {
		t.Errorf("empty summary = %+v", s)
	}
}
