// Package exercise is your working copy of lab 09's profile builder. It
// starts as a copy of the baseline, whose package doc says what it does
// (nothing: no profile); make reset-9 restores it.
//
// Keep the signature func Merge([]*profile.Profile) (*profile.Profile,
// error): make lab-9 IMPL=exercise calls it with the CPU profiles it took of
// the server under load and builds the server with what it returns, and
// make check-9 builds with what it returns for the two captures in
// labs/09-pgo/testdata and counts the compiler's PGO decisions.
package exercise
