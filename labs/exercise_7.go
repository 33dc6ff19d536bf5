//go:build flamelab_exercise7

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/07-batching/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(7, Exercise, func(env Env, s *server.Stages) error { s.Store = exercise.New(env.Pool); return nil })
}
