//go:build unix

package labs

import "syscall"

// noFollow makes opening the audit file fail on a symlink: whoever can write
// its directory must not be able to point the trail at another file.
const noFollow = syscall.O_NOFOLLOW
