//go:build flamelab_exercise9

package exercises

import (
	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/09-pgo/exercise"
)

// Lab 9's exercise is not a stage but the profile the server is built
// with: flamelab-lab links it (make lab-9 IMPL=exercise sets the tag).
func init() { labs.LinkPGO(9, labs.Exercise, exercise.Merge) }
