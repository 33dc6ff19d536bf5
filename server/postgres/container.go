package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

// ContainerLabel marks every container Provision starts, so that leftovers
// from a killed process can be found: docker ps -a --filter label=org.flamelab.provisioner
const ContainerLabel = "org.flamelab.provisioner"

const (
	dbUser = "flamelab"
	dbName = "flamelab"
)

func init() {
	// The port is published on 127.0.0.1 only, so that is the only address
	// that can reach it. Without this, testcontainers guesses the host from
	// the environment, and inside a container it guesses a gateway address
	// that never answers.
	setDefaultEnv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	// The reaper (Ryuk) is an image pulled from a registry, which offline
	// workshops do not have. Close and CloseOnInterrupt remove our containers,
	// and ContainerLabel finds any that a killed process left behind.
	setDefaultEnv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// testcontainers logs a banner and every step; Provision prints the one
	// line that matters. FLAMELAB_DEBUG=1 brings testcontainers' log back.
	if os.Getenv("FLAMELAB_DEBUG") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
}

func setDefaultEnv(key, value string) {
	if _, ok := os.LookupEnv(key); !ok {
		os.Setenv(key, value)
	}
}

// dockerReachable reports whether a Docker engine answers. testcontainers
// panics when it finds no Docker host at all; that is turned into an error.
func dockerReachable(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	_, err = cli.Ping(ctx, client.PingOptions{})
	return err
}

// imageFor picks the image: FLAMELAB_PG_IMAGE, else the official image if
// Docker already has it, else the offline build if Docker has that, else the
// official image (which testcontainers pulls).
func imageFor(ctx context.Context, opts *Options) (image, why string) {
	if img := opts.env(EnvImage); img != "" {
		return img, "from " + EnvImage
	}
	has := func(img string) bool {
		cli, err := testcontainers.NewDockerClientWithOpts(ctx)
		if err != nil {
			return false
		}
		defer cli.Close()
		_, err = cli.ImageInspect(ctx, img)
		return err == nil
	}
	switch {
	case has(DefaultImage):
		return DefaultImage, "default"
	case has(LocalImage):
		return LocalImage, "local build; " + DefaultImage + " is not present"
	}
	return DefaultImage, "default, pulling"
}

func startContainer(ctx context.Context, opts *Options) (*Database, error) {
	image, why := imageFor(ctx, opts)
	password := randomPassword()
	fmt.Fprintf(opts.log(), "database: starting a Postgres testcontainer from %s (%s)...\n", image, why)

	started := time.Now()
	cmd := append([]string{"postgres"}, opts.Durability.settings()...)
	ctr, err := tcpostgres.Run(ctx, image,
		tcpostgres.WithDatabase(dbName),
		tcpostgres.WithUsername(dbUser),
		tcpostgres.WithPassword(password),
		testcontainers.WithCmd(cmd...),
		testcontainers.WithLabels(map[string]string{ContainerLabel: "1"}),
		// Published on loopback only: a throwaway database with a known
		// user must not be reachable from the network.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort("5432/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1")}},
			}
		}),
		// Postgres restarts once after initdb: wait for the second "ready"
		// line, then for the published port.
		tcpostgres.BasicWaitStrategies(),
	)
	stop := func(ctx context.Context) error {
		if ctr == nil {
			return nil
		}
		return ctr.Terminate(ctx)
	}
	if err != nil {
		_ = stop(context.WithoutCancel(ctx))
		msg := fmt.Sprintf("start Postgres testcontainer from %s: %v", image, err)
		if strings.Contains(err.Error(), "pull") || strings.Contains(err.Error(), "No such image") {
			msg += fmt.Sprintf("\nno registry? build the image offline with scripts/build-pg-image.sh and export %s=%s", EnvImage, LocalImage)
		}
		return nil, errors.New(msg)
	}
	port, err := ctr.MappedPort(ctx, "5432/tcp")
	if err != nil {
		_ = stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("find the testcontainer's published port: %w", err)
	}
	fmt.Fprintf(opts.log(), "database: testcontainer %.12s ready in %s\n", ctr.GetContainerID(), time.Since(started).Round(10*time.Millisecond))
	return &Database{
		URL:         buildURL("127.0.0.1", int(port.Num()), dbUser, password, dbName),
		Source:      SourceContainer,
		Where:       fmt.Sprintf("testcontainer %.12s (%s) at %s", ctr.GetContainerID(), image, describe("127.0.0.1", port.Num(), dbUser, dbName)),
		stop:        stop,
		containerID: ctr.GetContainerID(),
		hostPID: func(ctx context.Context) (int, error) {
			st, err := ctr.State(ctx)
			if err != nil {
				return 0, err
			}
			return st.Pid, nil
		},
	}, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
