package labs

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// ServerPackage is the server's entry point, as go build takes it.
const ServerPackage = "./labs/cmd/flamelab-server"

// BuildServer builds the server binary at bin with what c needs linked:
// the build tag of every exercise c picks (Choice.Tags), and nothing else,
// so a broken exercise breaks no run that does not use it. The same c then
// goes to the binary as -stages (Choice.String): tags and stages come from
// one value and cannot disagree. env is added to the build's environment
// (e.g. GOEXPERIMENT=...).
func BuildServer(ctx context.Context, bin string, c Choice, env ...string) error {
	_, err := BuildServerWith(ctx, bin, c, nil, env)
	return err
}

// BuildServerWith is BuildServer with more go build flags (lab 9: -pgo=off,
// -pgo=FILE, the compiler's -gcflags report). It returns what go build
// printed: with -gcflags=-m, the compiler's decisions.
func BuildServerWith(ctx context.Context, bin string, c Choice, flags, env []string) (string, error) {
	args := append([]string{"build", "-o", bin}, flags...)
	if tags := c.Tags(); tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.CommandContext(ctx, "go", append(args, ServerPackage)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("go %v: %v\n%s", args, err, out)
	}
	return string(out), nil
}
