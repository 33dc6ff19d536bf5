package solution

import "github.com/flamelab/flamelab/server"

// Enricher derives Route for every event, in the caller's goroutine.
type Enricher struct{}

// New returns the solution's enricher.
func New() Enricher { return Enricher{} }

// Enrich implements server.Enricher.
func (Enricher) Enrich(events []server.Event) {
	for i := range events {
		events[i].Route = server.Route(events[i].Path)
	}
}
