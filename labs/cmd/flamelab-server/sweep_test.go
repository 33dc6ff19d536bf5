package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestKeySweep: the key sweep (lab 10's stage) forgets the day-old keys and
// keeps the others, on the admin port's POST /debug/flamelab/sweep-keys and
// at start, and never on its own with -key-sweep-every 0; keys_swept
// counts what it forgot. With each of lab 10's implementations.
func TestKeySweep(t *testing.T) {
	bin := build(t)
	db := pgtest.DB(t)
	ctx := context.Background()
	seed := func() {
		pgtest.Truncate(t, db)
		for _, q := range []string{
			`INSERT INTO requests SELECT 'old-' || g, gen_random_uuid(), '\x00'::bytea, 1, now() - interval '25 hours' + g * interval '1 second' FROM generate_series(1, 2500) g`,
			`INSERT INTO requests SELECT 'new-' || g, gen_random_uuid(), '\x00'::bytea, 1, now() - interval '1 hour' FROM generate_series(1, 10) g`,
		} {
			if _, err := db.Pool.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := func() (n int) {
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM requests").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	swept := func(admin string) int64 {
		var v struct {
			Swept int64 `json:"keys_swept"`
		}
		getJSON(t, http.DefaultClient, admin+"/debug/vars", &v)
		return v.Swept
	}
	for _, stages := range []string{"all=solution,10=baseline", "all=solution"} {
		t.Run(stages, func(t *testing.T) {
			seed()
			p := start(t, bin, db.URL, "-stages", stages, "-audit-file", filepath.Join(t.TempDir(), "audit.log"), "-key-sweep-every", "0")
			if n := keys(); n != 2510 {
				t.Fatalf("%d keys after start with -key-sweep-every 0; want all 2510 (no sweep)", n)
			}
			if resp, err := http.Get(p.admin + "/debug/flamelab/sweep-keys"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("GET sweep-keys: %v %v; want 405", resp.Status, err)
			}
			resp, err := http.Post(p.admin+"/debug/flamelab/sweep-keys", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			var out struct{ Swept int64 }
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
				t.Fatalf("POST sweep-keys: %s %v", resp.Status, err)
			}
			resp.Body.Close()
			if out.Swept != 2500 || keys() != 10 || swept(p.admin) != 2500 {
				t.Errorf("the sweep said %d, left %d keys, counted %d; want 2500 forgotten, the 10 new ones kept", out.Swept, keys(), swept(p.admin))
			}
		})
	}
	t.Run("at start", func(t *testing.T) {
		seed()
		p := start(t, bin, db.URL, "-audit-file", filepath.Join(t.TempDir(), "audit.log"))
		for deadline := time.Now().Add(30 * time.Second); swept(p.admin) < 2500 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond) // a guard against a hang, not a measurement
		}
		if n := keys(); n != 10 {
			t.Errorf("%d keys after the sweep at start; want the 10 new ones", n)
		}
	})
}

// TestFlightRecorderFlag: -flight-recorder starts the recorder, publishes
// its snapshot count, and writes nothing while no request is slow.
func TestFlightRecorderFlag(t *testing.T) {
	bin := build(t)
	db := pgtest.DB(t)
	dir := filepath.Join(t.TempDir(), "flight")
	p := start(t, bin, db.URL, "-audit-file", filepath.Join(t.TempDir(), "audit.log"), "-flight-recorder", "1h", "-flight-dir", dir)
	var v struct {
		Snapshots *int64 `json:"flight_snapshots"`
	}
	getJSON(t, http.DefaultClient, p.admin+"/debug/vars", &v)
	if v.Snapshots == nil || *v.Snapshots != 0 {
		t.Errorf("flight_snapshots = %v; want published, 0", v.Snapshots)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("the snapshot directory %s was not made: %v", dir, err)
	}
}
