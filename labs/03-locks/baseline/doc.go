// Package baseline is the in-memory statistics the flamelab server ships: the
// slow spot of lab 03-locks.
//
// One struct, one sync.Mutex, and every method holds it for all of its work:
// the shape most Go code starts with, because it is obviously correct. Observe
// takes the lock for every event rather than once per request, and WriteJSON
// holds it while it sorts every user and encodes the result straight to the
// client's connection, so one slow reader of /stats stalls every ingest
// request behind it. Lab 03 finds it in the mutex and block profiles.
package baseline
