// Package baseline is the event store the flamelab server ships: the slow spot
// of lab 07-batching.
//
// It is what an ORM-style repository does by default: one INSERT per event,
// each in its own implicit transaction, so every event costs a network round
// trip and a commit (a WAL flush, an fsync, when the database is durable); and
// a read path that first lists the ids it wants, then fetches each row by id,
// the N+1 query pattern. Lab 07 counts the round trips with a pgx tracer and
// sees the waiting in fgprof's wall-clock profile.
//
// Because each event commits on its own, a failure part way through a request
// leaves that request's earlier events stored while the client is told it
// failed; a client that retries then stores them twice. Lab 07's fix (one
// transaction per batch) removes that hazard too.
package baseline
