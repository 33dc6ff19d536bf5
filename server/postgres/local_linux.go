package postgres

import "syscall"

// childAttr runs postgres in its own process group, so a Ctrl-C in the
// terminal reaches this process (which stops the cluster in order) rather than
// postgres directly, and asks the kernel to stop postgres if this process dies
// without cleaning up.
func childAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGINT}
}
