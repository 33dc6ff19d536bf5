// Package baseline is the access-log parser the flamelab server ships: the
// slow spot of lab 06-parsing.
//
// It is written the way many Go log parsers are: split the line into fields
// with strings.Fields, match each field against a regular expression with
// named groups, collect the values in a map, then convert them with strconv
// and time.Parse. Every step is reasonable on its own, and the code reads
// well; it is also several allocations and one regexp match per field, and
// under load it is the server's hottest function. Lab 06 finds it in a CPU
// flamegraph.
package baseline
