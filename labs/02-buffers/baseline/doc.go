// Package baseline is the request-body reader the flamelab server ships: the
// slow spot of lab 02-buffers.
//
// It is the shape of most Go handlers that take a text body: io.ReadAll,
// convert to a string to use the strings package, split, trim, and convert
// each line back to []byte for the next step. Each conversion copies the whole
// body, io.ReadAll grows its buffer by doubling (more copies), and nothing is
// reused between requests, so every request allocates its body several times
// over. Lab 02 finds it in the allocation profile.
package baseline
