//go:build flamelab_exercise6

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/06-parsing/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(6, Exercise, func(_ Env, s *server.Stages) error { s.Parser = exercise.New(); return nil })
}
