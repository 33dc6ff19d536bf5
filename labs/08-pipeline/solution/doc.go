// Package solution is the reference fix for lab 08-pipeline: a commit
// pipeline that keeps up to InFlight batches in flight at once.
//
// While one batch waits for its commit's fsync, the next is gathered and
// its COPY sent on another connection, so the disk's wait overlaps the
// network's, the server's and Postgres's work. Postgres makes the most of
// it: commits that arrive while a WAL flush is under way are flushed by the
// next one together (its own group commit), so two batches in flight cost
// fewer fsyncs than two batches in a row.
//
// Three details carry the design:
//
//   - A slot is taken before the batch is gathered, not after. Gathered
//     while every slot is busy, a batch would close its membership and then
//     wait; the requests arriving meanwhile would wait for the batch after
//     it. Gathered the moment a connection is free, it takes all of them.
//   - The slots are bounded. An unbounded pipeline (a COPY per request, or
//     a goroutine per batch) turns back into lab 07's baseline: a commit
//     per request, every connection of the pool busy, and reads starved.
//   - Every promise stays where lab 07 put it: each batch is one
//     transaction, a request is answered only after its own batch commits,
//     and Run returns only once every flush it started has returned, so
//     the store's Close still drains. Batches in flight at once may claim
//     the same idempotency key; Postgres makes the second wait for the
//     first, and postgres.ClaimKeys claims keys in sorted order so two
//     batches never wait for each other.
package solution
