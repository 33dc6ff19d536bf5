//go:build flamelab_exercise10

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/10-production/exercise"
	"github.com/flamelab/flamelab/server"
)

func init() {
	labs.Link(10, labs.Exercise, func(env labs.Env, s *server.Stages) error { s.Sweeper = exercise.New(env.Pool); return nil })
}
