//go:build !unix

package labs

// noFollow: no O_NOFOLLOW here; the default audit directory is private.
const noFollow = 0
