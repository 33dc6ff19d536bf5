// Package exercise is your working copy of lab 10's key sweeper. It starts
// as a copy of the baseline, whose package doc says what is slow about it;
// make reset-10 restores it.
//
// Keep New(pool) and Sweep(ctx, cutoff): make lab-10 IMPL=exercise runs the
// server with it, sweeps a million day-old keys in the middle of a
// constant-rate load, and compares the p99 with the baseline's; make
// check-10 counts the rows your largest statement deletes.
package exercise
