// Package exercise is your working copy of lab 08's commit pipeline. It
// starts as a copy of the baseline, whose package doc says what is slow and
// why; make reset-8 restores it.
//
// Keep New() *Pipeline and the Run method as they are: the tests and the
// server call them (server.Pipeline is the contract: read it before you
// change anything). make check-8 runs lab 07's store correctness suite with
// your pipeline inside lab 07's batching store (atomic requests, idempotency
// keys racing, Close draining, connections killed under load), then the
// budget: the batches in flight while a commit is held up.
package exercise
