//go:build flamelab_exercise1

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/01-goroutines/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(1, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.Enricher = exercise.New(); return nil })
}
