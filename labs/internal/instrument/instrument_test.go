package instrument

import (
	"strings"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/load"
)

// TestLoopsReport: the closed- and open-loop table prints every round, and
// the last line compares the stall's p99 with the control's in each loop,
// from the medians of the rounds.
func TestLoopsReport(t *testing.T) {
	leg := func(p99 time.Duration) load.Result {
		return load.Result{ReqPerSec: 500, P50: 20 * time.Millisecond, P99: p99, Max: 2 * p99}
	}
	r := &Result{Load: load.Spec{Workers: 32, Lines: 50}, OpenRate: 300,
		Loops: []Loop{
			{Server: "stalled", Closed: []load.Result{leg(200 * time.Millisecond), leg(180 * time.Millisecond)}, Open: []load.Result{leg(400 * time.Millisecond), leg(440 * time.Millisecond)}},
			{Server: "control", Closed: []load.Result{leg(100 * time.Millisecond), leg(100 * time.Millisecond)}, Open: []load.Result{leg(100 * time.Millisecond), leg(100 * time.Millisecond)}},
		}}
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"| stalled | 500; 500 | 20 / 200 / 400; 20 / 180 / 360 | 20 / 400 / 800; 20 / 440 / 880 |",
		"closed loop 1.9x, open loop 4.2x",
		"300 requests a second",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}
