// Package solution is lab 01's reference fix: the enricher does its work in
// a plain loop, in the request's own goroutine.
//
// Deriving a route takes about a hundred nanoseconds; starting, scheduling
// and joining a goroutine costs several times that, so the baseline spent
// most of its time on goroutines, not routes. The lesson measured the other
// candidates (a pool of GOMAXPROCS workers over chunks, errgroup with
// SetLimit) and the work per item at which spreading out starts to pay: on a
// server already busy with other requests, almost never. Zero goroutines per
// call is also what the lab's budget allows most easily.
package solution
