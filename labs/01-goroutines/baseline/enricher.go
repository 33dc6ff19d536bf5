// Package baseline is the event enricher the flamelab server ships: the slow
// spot of lab 01-goroutines.
//
// "Goroutines are cheap" is true, and it leads to code like this: one
// goroutine per event, joined with a WaitGroup. Each goroutine costs a
// creation, a stack, two scheduler hand-offs and a WaitGroup update, which is
// several times the work it does here (a few hundred nanoseconds of string
// handling). Lab 01 counts the goroutines per request and finds the scheduler
// in the CPU flamegraph.
package baseline

import (
	"sync"

	"github.com/flamelab/flamelab/server"
)

// Enricher derives Route for every event.
type Enricher struct{}

// New returns the baseline enricher.
func New() Enricher { return Enricher{} }

// Enrich implements server.Enricher.
func (Enricher) Enrich(events []server.Event) {
	var wg sync.WaitGroup
	for i := range events {
		wg.Add(1)
		go func(e *server.Event) {
			defer wg.Done()
			e.Route = server.Route(e.Path)
		}(&events[i])
	}
	wg.Wait()
}
