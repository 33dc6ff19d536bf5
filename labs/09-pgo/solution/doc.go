// Package solution builds the profile the Go team's PGO guide describes:
// CPU profiles of the program under its real load, more than one, merged
// into one. Two windows weigh a hot path seen in only one of them half as
// much as one that runs in both, which is what a build made for every
// future request wants; one window of an unusual second would teach the
// compiler that second.
//
// The compiler weighs call edges by samples, and takes any profile with a
// samples/count column: a CPU profile, but also fgprof's wall-clock one,
// whose hottest "code" is the wait for the database. Merge refuses anything
// not sampled by CPU time, with an error that says so, rather than let it
// through to a build that only looks optimised.
package solution
