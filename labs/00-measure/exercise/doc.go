// Package exercise is your working copy of lab 00's benchmark. It starts as
// a copy of the baseline, whose package doc says what is wrong with it;
// make reset-0 restores it.
//
// Keep the signature func Benchmark(b *testing.B): the lab's tests and
// make bench-0 call it. make check-0 judges it: the allocations it charges
// per operation beyond the parse's own, how many parses one operation is,
// and whether it reports the events a parse found (events/op).
package exercise
