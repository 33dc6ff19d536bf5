//go:build flamelab_exercise1

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/01-goroutines/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(1, Exercise, func(_ Env, s *server.Stages) error { s.Enricher = exercise.New(); return nil })
}
