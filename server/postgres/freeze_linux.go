package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Freeze stops every process of a database Provision started (SIGSTOP to
// the postmaster and all its descendants, found in /proc), so that its
// connections stay open and nothing on them answers: a database that has
// hung, which a table lock only imitates (a lock still answers the
// cancel request, and every query that does not touch the table). The
// returned resume sends SIGCONT to the same processes. For fault tests.
func (db *Database) Freeze(ctx context.Context) (resume func() error, err error) {
	var root int
	switch db.Source {
	case SourceLocal:
		root = db.pid
	case SourceContainer:
		if db.hostPID == nil {
			return nil, errors.New("freeze: the container's process is unknown")
		}
		if root, err = db.hostPID(ctx); err != nil {
			return nil, fmt.Errorf("freeze: find the container's process: %w", err)
		}
	default:
		return nil, fmt.Errorf("freeze: %s is not a database flamelab started", db.Where)
	}
	pids := append([]int{root}, descendants(root)...)
	var stopped []int
	resume = func() error {
		var err error
		for _, pid := range stopped {
			err = errors.Join(err, syscall.Kill(pid, syscall.SIGCONT))
		}
		return err
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			return nil, errors.Join(fmt.Errorf("freeze: SIGSTOP %d: %w", pid, err), resume())
		}
		stopped = append(stopped, pid)
	}
	return resume, nil
}

// descendants returns every process below pid, from /proc/*/stat.
func descendants(pid int) []int {
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:]) // state, ppid, ...
		if len(fields) < 2 {
			continue
		}
		self, err1 := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		ppid, err2 := strconv.Atoi(fields[1])
		if err1 == nil && err2 == nil {
			children[ppid] = append(children[ppid], self)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}
