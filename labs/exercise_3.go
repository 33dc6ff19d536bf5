//go:build flamelab_exercise3

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/03-locks/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(3, Exercise, func(_ Env, s *server.Stages) error { s.Stats = exercise.New(); return nil })
}
