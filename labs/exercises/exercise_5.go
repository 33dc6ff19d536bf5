//go:build flamelab_exercise5

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"

	"github.com/flamelab/flamelab/labs/05-blocking/exercise"
)

// Linked only under its tag: see the package doc.
func init() {
	labs.Link(5, labs.Exercise, func(env labs.Env, s *server.Stages) error {
		return labs.OpenAudit(env, s, func(f labs.AuditFile) server.Auditor { return exercise.New(f) })
	})
}
