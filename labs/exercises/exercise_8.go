//go:build flamelab_exercise8

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/08-pipeline/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(8, labs.Exercise, func(_ labs.Env, s *server.Stages) error { s.Pipeline = exercise.New(); return nil })
}
