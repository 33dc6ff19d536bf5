package runner

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times: USER_HZ, 100 on
// every Linux this runs on.
const clockTick = 10 * time.Millisecond

// cpuOf returns the CPU time (user and system) process pid has used, from
// /proc; 0 where there is no /proc.
func cpuOf(pid string) time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	return statCPU(string(b))
}

// statCPU reads utime and stime off a /proc/<pid>/stat line. The command
// name, in parentheses, may hold spaces and parentheses: fields are counted
// after the last closing parenthesis (utime and stime are fields 14 and 15).
func statCPU(s string) time.Duration {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * clockTick
}

// postgresCPU returns the CPU time of every process named postgres on this
// machine: the database's backends, wherever it runs (a local cluster, or a
// container, whose processes the host sees). It reads /proc and nothing
// else.
func postgresCPU() time.Duration {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	var total time.Duration
	for _, d := range dirs {
		comm, err := os.ReadFile(d)
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		total += cpuOf(filepath.Base(filepath.Dir(d)))
	}
	return total
}

// cpuSnapshot is the CPU used so far by the three processes that share the
// machine during a leg.
type cpuSnapshot struct{ server, postgres, load time.Duration }

func takeCPU(serverPID int) cpuSnapshot {
	return cpuSnapshot{server: cpuOf(strconv.Itoa(serverPID)), postgres: postgresCPU(), load: cpuOf("self")}
}

// CPUUse is the CPU each process used per request over a leg, and how busy
// that kept the machine's cores.
type CPUUse struct {
	ServerMS, PostgresMS, LoadMS float64 // CPU milliseconds per request
	Busy                         float64 // all three, as a share of every core over the leg
	// ServerPeakMB is the server's peak resident memory (VmHWM), in MB,
	// at the end of the leg: the runtime's memory outside the heap too,
	// such as the flight recorder's trace buffers.
	ServerPeakMB float64
}

// peakMB is pid's peak resident set, in MB (0 where /proc has none).
func peakMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1e3
		}
	}
	return 0
}

func cpuUse(before, after cpuSnapshot, requests int, leg time.Duration) CPUUse {
	per := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(requests) }
	total := (after.server - before.server) + (after.postgres - before.postgres) + (after.load - before.load)
	u := CPUUse{ServerMS: per(after.server - before.server), PostgresMS: per(after.postgres - before.postgres), LoadMS: per(after.load - before.load)}
	if leg > 0 {
		u.Busy = float64(total) / float64(leg) / float64(runtime.NumCPU())
	}
	return u
}
