//go:build unix

package postgres

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestSweepLocal: a cluster directory whose owner process is gone is removed;
// one whose owner lives, or that says nothing of its owner, is kept.
func TestSweepLocal(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name, owner string) string {
		dir := filepath.Join(os.TempDir(), localPrefix+name)
		if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	gone := mk("gone", strconv.Itoa(dead.Process.Pid))
	mine := mk("mine", strconv.Itoa(os.Getpid()))
	unknown := mk("unknown", "")
	n, err := SweepLocal()
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{gone: false, mine: true, unknown: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s: exists=%v, want %v", filepath.Base(dir), err == nil, want)
		}
	}
	if n != 1 {
		t.Errorf("removed %d, want 1", n)
	}
}
