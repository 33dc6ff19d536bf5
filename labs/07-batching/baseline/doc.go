// Package baseline is the event store the flamelab server ships: the slow spot
// of lab 07-batching.
//
// It is what an ORM-style repository does by default inside a unit of work:
// a transaction per request, for all or nothing, and in it one INSERT per
// event, so every event costs a network round trip; and a read path that first
// lists the ids it wants, then fetches each row by id, the N+1 query pattern.
// Each request also costs a commit of its own (a WAL flush, an fsync, when the
// database is durable), however many requests arrive together. Lab 07 counts
// the round trips with a pgx tracer and sees the waiting in fgprof's
// wall-clock profile.
//
// It is correct: the transaction makes every request atomic, and an
// Idempotency-Key is claimed in the same transaction (postgres.ClaimKeys), so
// a retry is stored once even across a crash. Dropping the transaction (every
// INSERT committing on its own) is faster still, and wrong: a failure part way
// through leaves part of a request stored. alternatives_test.go shows it.
package baseline
