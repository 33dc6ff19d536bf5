package flight

import (
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// Wait is one stretch of time a goroutine of a snapshot spent blocked: what
// go tool trace's goroutine pages show, as data.
type Wait struct {
	Goroutine int64
	// Start is where the goroutine began: the first frame of its creation
	// stack, when the snapshot saw it created ("" if it was created
	// before the window).
	Start string
	// Reason is the runtime's word for the block: "network", "chan
	// receive", "select", "sync", "sleep", ...
	Reason string
	// Stack is where it blocked, innermost frame first.
	Stack []Frame
	// From and For place the wait in the snapshot: its offset from the
	// snapshot's first event, and how long it lasted.
	From, For time.Duration
	// Open: still blocked when the snapshot was written; For runs to the
	// snapshot's last event.
	Open bool
}

// Frame is one frame of a Wait's stack.
type Frame struct {
	Func string
	File string
	Line int
}

// Has reports whether any frame's function contains fn, e.g.
// "baseline.(*Sweeper).Sweep".
func (w Wait) Has(fn string) bool {
	return slices.ContainsFunc(w.Stack, func(f Frame) bool { return strings.Contains(f.Func, fn) })
}

// Read reads a snapshot (or any execution trace) and returns every
// goroutine's waits in it, longest first. A goroutine already blocked when
// the window opened has no stack for that wait and is left out: the
// snapshot only knows it was waiting.
func Read(r io.Reader) (waits []Wait, span time.Duration, err error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, 0, err
	}
	type open struct {
		at     trace.Time
		reason string
		stack  []Frame
	}
	blocked := map[trace.GoID]open{}
	starts := map[trace.GoID]string{}
	var first, last trace.Time
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if first == 0 {
			first = ev.Time()
		}
		last = ev.Time()
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		switch {
		case from == trace.GoNotExist && to == trace.GoRunnable:
			for f := range st.Stack.Frames() {
				starts[id] = f.Func
				break
			}
		case to == trace.GoWaiting:
			stack := st.Stack
			if stack == trace.NoStack {
				stack = ev.Stack()
			}
			blocked[id] = open{at: ev.Time(), reason: st.Reason, stack: frames(stack)}
		case from == trace.GoWaiting:
			if b, ok := blocked[id]; ok {
				waits = append(waits, Wait{Goroutine: int64(id), Start: starts[id], Reason: b.reason, Stack: b.stack,
					From: time.Duration(b.at - first), For: time.Duration(ev.Time() - b.at)})
				delete(blocked, id)
			}
		}
	}
	for id, b := range blocked {
		waits = append(waits, Wait{Goroutine: int64(id), Start: starts[id], Reason: b.reason, Stack: b.stack,
			From: time.Duration(b.at - first), For: time.Duration(last - b.at), Open: true})
	}
	slices.SortFunc(waits, func(a, b Wait) int { return int(b.For - a.For) })
	return waits, time.Duration(last - first), nil
}

func frames(s trace.Stack) []Frame {
	var out []Frame
	for f := range s.Frames() {
		out = append(out, Frame{Func: f.Func, File: f.File, Line: int(f.Line)})
	}
	return out
}
