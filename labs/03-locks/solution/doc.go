// Package solution is lab 03's reference fix: the statistics take their lock
// once per request, and /stats copies what it needs under the lock, then
// sorts and writes to the client outside it.
//
// The baseline's lock was not slow because it was a Mutex. It was slow
// because of what it was held across: a lock per event instead of per
// request, and a sort and a network write, which a slow client can stretch
// without bound, while every ingest request queued behind it. A
// sync.RWMutex (the article's fix) keeps the second problem: the writer
// waits for the reader, reads or not. The lesson measures it and the other
// candidates.
package solution
