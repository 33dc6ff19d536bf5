//go:build flamelab_exercise3

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/03-locks/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(3, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.Stats = exercise.New(); return nil })
}
