// Package solution is the reference fix for lab 10-production: the key
// sweep in bounded batches, resting between them.
//
// Each statement deletes at most Options.Batch keys (the oldest first,
// through the created_at index) and commits on its own, so no statement
// holds the database for more than a few milliseconds; after each batch
// the sweeper rests as long as the batch took, so it uses at most half of
// one of the database's cores however large the backlog. A million keys
// take about twice as long to forget, seconds instead of one and a half,
// and no request waits behind more than one small batch. The keys it
// forgets and the keys it keeps are the baseline's.
//
// This is how expiry jobs that run beside a live service are written
// (batched deletes, pg_cron jobs with a LIMIT, Rails' in_batches): the
// backlog is an hour of keys, and no one waits for the sweep to finish.
package solution
