// Package solution is the reference fix for lab 05-blocking: the durable
// audit trail with group commit.
//
// Requests no longer take turns at the disk. Append hands its record to one
// writer goroutine through a bounded queue and waits. The writer takes every
// record queued so far, writes them all with one write, makes them durable
// with one fsync, and then wakes exactly the requests whose records that
// fsync covered. While one fsync runs, new records queue up and become the
// next batch, so under load one fsync serves many requests, and the lock that
// serialised every request is gone.
//
// What does not change is the promise: Append returns nil only after the
// fsync that covers its record has returned. If the write or the fsync fails,
// every request in that batch gets the error (the server answers 503), none
// is told its record is safe.
//
// The queue is bounded: when the disk cannot keep up, Append blocks (until its
// context ends) instead of letting memory grow. Close stops taking records,
// writes and syncs everything queued, and closes the file.
package solution
