//go:build flamelab_exercise4

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/04-copies/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(4, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.Encoder = exercise.New(); return nil })
}
