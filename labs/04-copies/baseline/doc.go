// Package baseline is the encoder the flamelab server ships: the slow spot of
// lab 04-copies.
//
// It builds JSON the way code that started life in a dynamic language often
// does: every event becomes a map[string]any, every number in it is boxed into
// an interface (a heap allocation), the slice of maps grows by appending
// without a size hint, and each event is copied by value on its way in.
// encoding/json then sorts every map's keys and reflects over every value.
// Nothing here is wrong; it is just allocation after allocation, and Go's
// garbage collector, which is real, pays for all of them. Lab 04 finds it in
// the allocation profile and in GC cycles per request.
package baseline
