//go:build flamelab_exercise5

package labs

import (
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/05-blocking/exercise"
)

// Linked only under its tag: see "A broken exercise breaks only its own lab"
// in the package doc.
func init() {
	link(5, Exercise, func(env Env, s *server.Stages) error {
		return openAudit(env, s, func(f countingFile) server.Auditor { return exercise.New(f) })
	})
}
