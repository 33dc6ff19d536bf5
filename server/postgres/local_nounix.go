//go:build !unix

package postgres

import (
	"context"
	"errors"
	"runtime"
)

// errNoLocal says why the third source is missing here and names the other
// two: the local cluster needs Unix process credentials and groups.
var errNoLocal = errors.New("flamelab runs local Postgres binaries only on Unix (it needs to run them as another user, in their own process group), not on " +
	runtime.GOOS + "; set FLAMELAB_DATABASE_URL to a database you have, or start a Docker engine for a testcontainer")

func findBinaries(func(string) string) (string, error) { return "", errNoLocal }

const binGlob = "(none on " + runtime.GOOS + ")"

func startLocal(context.Context, *Options, string) (*Database, error) { return nil, errNoLocal }

// SweepLocal has nothing to sweep where no local cluster can be started.
func SweepLocal() (int, error) { return 0, nil }
