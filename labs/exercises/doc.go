// Package exercises links the learner's exercises into the server, one
// lab at a time, the way database/sql drivers register themselves: each
// file, exercise_N.go, is compiled only under the build tag
// flamelab_exerciseN (labs.Lab.ExerciseTag) and calls labs.Link from init.
//
// In the middle of an exercise the learner's code often does not compile.
// That must not take the rest of the workshop down with it: make serve,
// make lab-M and make check-M for every other lab keep working. So no
// exercise is linked into a default build, and only the commands that
// concern lab N set its tag: make serve with STAGES naming the exercise,
// make lab-N IMPL=exercise (labs.BuildServer builds the server binary for
// exactly the configuration it runs). The lab's own tests import the
// exercise package directly, so make check-N and make test fail on that
// lab's package alone, naming the file and line.
//
// Build tags rather than one binary per configuration: the runner needs a
// binary of its own anyway (the server runs in its own process, away from
// the load generator), and a tag keeps make serve a plain go build.
// TestIsolation in package labs checks the rule with go list and a
// compile-time overlay, without touching the working tree.
//
// The server imports this package for its side effects only:
//
//	import _ "github.com/flamelab/flamelab/labs/exercises"
package exercises
