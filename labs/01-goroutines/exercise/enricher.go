package exercise

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
