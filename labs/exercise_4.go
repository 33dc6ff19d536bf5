//go:build flamelab_exercise4

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/04-copies/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(4, Exercise, func(_ Env, s *server.Stages) error { s.Encoder = exercise.New(); return nil })
}
