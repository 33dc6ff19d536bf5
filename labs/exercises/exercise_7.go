//go:build flamelab_exercise7

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/07-batching/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(7, labs.Exercise, func(env labs.Env, s *server.Stages) error { s.Store = exercise.New(env.Pool); return nil })
}
