// Package solution is the reference fix for lab 07-batching: the event store
// with batched writes and one-query reads.
//
// Writes: requests do not talk to the database themselves. Insert hands its
// events to one writer goroutine through a bounded queue and waits. The
// writer takes everything that is queued (up to MaxRows rows, waiting at
// most Linger for more), writes it with one COPY, a single statement and so
// a single transaction and a single commit, and then wakes exactly the
// requests in that batch with the outcome. Under load, the requests that
// arrive while one batch commits form the next batch: one commit (one WAL
// fsync) is shared by many requests, which is group commit, the same idea
// Postgres applies to its own WAL. A request is answered only after its own
// batch has committed; if the COPY fails, every request in the batch gets the
// error and none of its rows exist, because the statement is atomic.
//
// The queue is bounded: when the database cannot keep up, Insert blocks (and
// gives up when its context ends) instead of letting memory grow. Close
// stops taking new work, waits until the queue is drained, and returns.
//
// The writer writes one batch at a time: gather, COPY, commit, then gather
// the next. That loop is Options.Pipeline, a server.Pipeline, so lab
// 08-pipeline can change it alone (several batches in flight) while this
// store keeps every promise; nil, as here, is the loop as this lab wrote it.
//
// Reads: one SELECT with ORDER BY and LIMIT, instead of a list of ids and a
// query per id.
package solution
