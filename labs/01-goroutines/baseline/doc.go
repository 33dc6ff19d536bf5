// Package baseline is the event enricher the flamelab server ships: the slow
// spot of lab 01-goroutines.
//
// "Goroutines are cheap" is true, and it leads to code like this: one
// goroutine per event, joined with a WaitGroup. Each goroutine costs a
// creation, a stack, two scheduler hand-offs and a WaitGroup update, which is
// several times the work it does here (a few hundred nanoseconds of string
// handling). Lab 01 counts the goroutines per request and finds the scheduler
// in the CPU flamegraph.
package baseline
