//go:build unix && !linux

package postgres

import "syscall"

// childAttr runs postgres in its own process group, so a Ctrl-C in the
// terminal reaches this process, which stops the cluster in order.
func childAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}
