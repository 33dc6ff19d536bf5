//go:build flamelab_exercise2

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/02-buffers/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(2, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.BodyReader = exercise.New(); return nil })
}
