// Package baseline is the audit trail the flamelab server ships: the slow
// spot of lab 05-blocking.
//
// The requirement is real: a request may be acknowledged only once its audit
// record is on stable storage. The code is the direct translation: take a
// mutex, append the record, fsync, release. It is correct, and it makes every
// request in the server wait in line for every other request's fsync (about a
// millisecond or more on real disks), so throughput is capped at one request
// per fsync whatever the CPU count. The CPU profile barely shows it: the
// goroutines are waiting, not running. Lab 05 finds it with fgprof's
// wall-clock profile and the mutex and block profiles.
package baseline
