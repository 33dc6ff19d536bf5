package labs_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// hangUpStore cuts the client right after the commit: it cancels the
// request's context as soon as the real store has stored the events, as a
// client that hangs up at that moment would.
type hangUpStore struct {
	server.Store
	mu      sync.Mutex
	cancels map[string]context.CancelFunc // by the request's X-Test-Id
}

type testIDKey struct{}

func (s *hangUpStore) Insert(ctx context.Context, req server.Request) (server.Receipt, error) {
	r, err := s.Store.Insert(ctx, req)
	if id, ok := ctx.Value(testIDKey{}).(string); ok {
		s.mu.Lock()
		s.cancels[id]()
		s.mu.Unlock()
	}
	return r, err
}

// TestAuditedAfterHangUp: every committed request's audit record is in the
// trail, even when its client hangs up right after the commit, with every
// audit implementation linked into the server (the exercise joins with its
// build tag, as in make lab-5 IMPL=exercise). (With the client's context passed to Append, lab
// 5's solution chose the cancelled context over its free queue about half
// the time and logged "audit queue full: context canceled".)
func TestAuditedAfterHangUp(t *testing.T) {
	for _, impl := range []labs.Impl{labs.Baseline, labs.Solution} {
		t.Run(string(impl), func(t *testing.T) {
			db := pgtest.DB(t)
			pgtest.Truncate(t, db)
			audit := filepath.Join(t.TempDir(), "audit.log")
			stages, err := labs.Build(labs.Env{Pool: db.Pool, AuditPath: audit}, labs.Choice{5: impl})
			if err != nil {
				t.Fatal(err)
			}
			hs := &hangUpStore{Store: stages.Store, cancels: map[string]context.CancelFunc{}}
			stages.Store = hs
			srv, err := server.New(stages, db.Pool, server.Config{})
			if err != nil {
				t.Fatal(err)
			}
			// The request's context is one the store can cancel: what the
			// server sees when the client's connection is cut.
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := r.Header.Get("X-Test-Id")
				ctx, cancel := context.WithCancel(context.WithValue(r.Context(), testIDKey{}, id))
				hs.mu.Lock()
				hs.cancels[id] = cancel
				hs.mu.Unlock()
				srv.ServeHTTP(w, r.WithContext(ctx))
			})
			ts := httptest.NewServer(h)
			defer ts.Close()

			const requests = 40
			var ids []string
			for i := range requests {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/events", strings.NewReader(body(i, 3)))
				req.Header.Set("X-Test-Id", string(rune('a'+i%26))+strings.Repeat("x", i/26))
				resp, err := ts.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					RequestID string `json:"request_id"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("request %d: %d after its commit, want 200 (the client hung up, but the events are stored and must be audited)", i, resp.StatusCode)
					continue
				}
				ids = append(ids, out.RequestID)
			}
			if err := labs.Close(stages); err != nil {
				t.Fatal(err)
			}
			trail, err := os.ReadFile(audit)
			if err != nil {
				t.Fatal(err)
			}
			var stored int
			if err := db.Pool.QueryRow(context.Background(), "SELECT count(DISTINCT request_id) FROM events").Scan(&stored); err != nil {
				t.Fatal(err)
			}
			missing := 0
			for _, id := range ids {
				if !strings.Contains(string(trail), id) {
					missing++
				}
			}
			if stored != requests || missing > 0 {
				t.Errorf("%d requests stored, %d acknowledged, %d of those missing from the audit trail; want %d stored and none missing", stored, len(ids), missing, requests)
			}
		})
	}
}
