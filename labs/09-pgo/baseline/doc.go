// Package baseline is how almost every Go binary is built: with no
// profile. go build's default, -pgo=auto, looks for a default.pgo beside
// the main package, finds none, and compiles as if PGO did not exist: the
// inliner spends the same small budget (80 nodes) on the call that runs a
// million times a second as on the one that runs once at start-up.
//
// That is not a mistake anyone makes on purpose; it is the default. Merge
// returns no profile, so make lab-9 builds its "after" server exactly like
// its "before" one (-pgo=off), and make check-9 finds no PGO decision in the
// compiler's report.
package baseline
