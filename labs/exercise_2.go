//go:build flamelab_exercise2

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/02-buffers/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(2, Exercise, func(_ Env, s *server.Stages) error { s.BodyReader = exercise.New(); return nil })
}
