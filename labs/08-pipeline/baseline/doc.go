// Package baseline is the commit pipeline the fixed server ships: the slow
// spot of lab 08-pipeline, found only after the article's seven fixes.
//
// It is lab 07's batch writer loop, lifted out of its store so this lab can
// change it alone: gather every request that is queued into one batch,
// write it (one COPY, one commit, one fsync), and only when that commit has
// returned gather the next. It is the textbook group commit, and correct:
// every request is answered after its own batch commits, and Close drains
// the queue. Its cost is that exactly one batch is ever in flight. While a
// batch waits for the disk, the connection, the cores and the next batch's
// requests all wait with it; a request that arrives just after a batch
// closed waits for that batch's whole COPY and commit before its own can
// start. With 32 clients the fixed server's handler spends most of its wall
// clock waiting in the store for this loop, with the cores a third idle.
package baseline
