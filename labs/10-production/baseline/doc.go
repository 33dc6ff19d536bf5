// Package baseline is the key sweep as it is usually first written: one
// DELETE of everything past its retention, run once an hour beside the
// requests.
//
// It is correct: every key older than the cutoff is gone when it returns,
// and nothing newer is touched. It is also what nearly every job that
// expires rows looks like the day it is written ("DELETE FROM sessions
// WHERE expires_at < now()"), and it is cheap while the table is small.
//
// What it costs is one statement that deletes an hour of keys at once: at
// a million keys, about a second and a half during which one Postgres
// backend spends a core on the delete, its write-ahead log and its index
// pages, while the requests' own commits wait for the same cores and the
// same log. The requests in that second and a half are the server's p99;
// the hour's other 3,598 seconds are not. A CPU profile of the Go server
// shows none of it (the work happens in another process, and the sweep's
// goroutine only waits), which is lab 10's lesson.
package baseline
