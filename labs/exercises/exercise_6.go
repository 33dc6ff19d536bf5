//go:build flamelab_exercise6

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/06-parsing/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(6, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.Parser = exercise.New(); return nil })
}
