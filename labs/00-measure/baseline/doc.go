// Package baseline is lab 00's benchmark as it is often first written. It
// runs, it prints a number, and the number is wrong three ways: it times
// and counts the setup (building 64 request bodies) as if it were the
// parse; one of its "operations" is 64 parses, so ns/op is 64 times what a
// request costs; and it throws every result away, reporting nothing a
// reader could check (how many events a parse found).
//
// Nothing in it is slow on purpose: each mistake is one a careful engineer
// makes on a first try. Its figures are what make bench-0 shows beside the
// solution's.
package baseline
