// Package solution is the reference fix for lab 10-production: the key
// sweep in bounded batches, resting between them.
//
// Each statement deletes about Options.Batch keys, the oldest first, read
// off the created_at index as a range, and commits on its own, so no
// statement holds the database for more than a few milliseconds;
// after each batch the sweeper rests nine times as long as the batch took,
// so it has at most a tenth of one of the database's cores however large
// the backlog. A million keys take tens of seconds to forget instead of one
// and a half (the sweep runs once an hour: nobody waits for it), and no
// request waits behind more than one small batch. The keys it forgets and
// the keys it keeps are the baseline's.
//
// A batch is bounded by time, not by count: its edge is the Batch-th
// oldest key's created_at, and every key stored at that instant goes with
// it. Keys stored by a live service are microseconds apart; a burst of keys
// imported at one instant would be one batch (the correctness tests sweep
// such a burst).
//
// This is how expiry jobs that run beside a live service are written
// (batched deletes, pg_cron jobs with a LIMIT, Rails' in_batches): the
// backlog is an hour of keys, and no one waits for the sweep to finish.
package solution
