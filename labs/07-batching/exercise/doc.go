// Package exercise is your working copy of lab 07's event store. It starts as
// a copy of the baseline, whose package doc says what is slow and why; make
// reset-7 restores it.
//
// Keep New(pool *pgxpool.Pool) *Store as it is: the tests and the server call
// it. make check-7 judges your work against a real Postgres: the same rows and
// reads as the baseline, nothing lost when connections die, then the round-trip
// budgets.
package exercise
