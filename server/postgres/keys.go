package postgres

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/flamelab/flamelab/server"
)

// Claim is what ClaimKeys found for one request's Idempotency-Key.
type Claim struct {
	// New: the key was free and is now the request's, in the caller's
	// transaction; store the events in the same transaction.
	New bool
	// Otherwise the key was stored before: Prior is the first request's
	// receipt (Replayed set) if the body is the same, or Err is
	// server.ErrKeyReused. Store nothing for the request.
	Prior server.Receipt
	Err   error
}

// ClaimKeys claims the Idempotency-Keys of reqs in tx, in one round trip (two
// when some were stored before). Every request must have a Key, and the keys
// must be distinct. A key another transaction has claimed but not committed
// makes this wait for that transaction: then it is either stored (a replay)
// or free again.
//
// The claim commits or rolls back with the events: that is what makes a
// retry safe across crashes.
//
// The keys are claimed in sorted order, whatever the order of reqs. Two
// transactions in flight at once (lab 08's pipelined batches) that claim
// {a, b} and {b, a} in their arrival order would each wait for the other's
// second key: a deadlock, which Postgres breaks after a second by failing
// one of them. In one order, the second simply waits for the first.
func ClaimKeys(ctx context.Context, tx pgx.Tx, reqs []server.Request) ([]Claim, error) {
	keys := make([]string, len(reqs))
	ids := make([]string, len(reqs))
	digests := make([][]byte, len(reqs))
	accepted := make([]int32, len(reqs))
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(reqs[a].Key, reqs[b].Key) })
	for i, o := range order {
		r := reqs[o]
		keys[i], ids[i], digests[i], accepted[i] = r.Key, r.ID, r.Digest[:], int32(len(r.Events))
	}
	rows, err := tx.Query(ctx, `INSERT INTO requests (idempotency_key, request_id, body_sha256, accepted)
		SELECT * FROM unnest($1::text[], $2::uuid[], $3::bytea[], $4::int[])
		ON CONFLICT (idempotency_key) DO NOTHING
		RETURNING idempotency_key`, keys, ids, digests, accepted)
	if err != nil {
		return nil, fmt.Errorf("claim idempotency keys: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim idempotency keys: %w", err)
	}
	isNew := make(map[string]bool, len(claimed))
	for _, k := range claimed {
		isNew[k] = true
	}
	out := make([]Claim, len(reqs))
	var taken []string
	for i, r := range reqs {
		out[i].New = isNew[r.Key]
		if !out[i].New {
			taken = append(taken, r.Key)
		}
	}
	if len(taken) == 0 {
		return out, nil
	}
	type prior struct {
		Key      string
		ID       string
		Digest   []byte
		Accepted int
	}
	rows, err = tx.Query(ctx, `SELECT idempotency_key, request_id::text, body_sha256, accepted
		FROM requests WHERE idempotency_key = ANY($1)`, taken)
	if err != nil {
		return nil, fmt.Errorf("read stored idempotency keys: %w", err)
	}
	priors, err := pgx.CollectRows(rows, pgx.RowToStructByPos[prior])
	if err != nil {
		return nil, fmt.Errorf("read stored idempotency keys: %w", err)
	}
	byKey := make(map[string]prior, len(priors))
	for _, p := range priors {
		byKey[p.Key] = p
	}
	for i, r := range reqs {
		if out[i].New {
			continue
		}
		p, ok := byKey[r.Key]
		switch {
		case !ok:
			// Deleted by the key sweep (server.Sweeper) between the two statements: the key
			// is past its retention; the client's retry finds it free.
			return nil, fmt.Errorf("idempotency key %q expired while this request read it; retry", r.Key)
		case !bytes.Equal(p.Digest, r.Digest[:]):
			out[i].Err = server.ErrKeyReused
		default:
			out[i].Prior = server.Receipt{RequestID: p.ID, Accepted: p.Accepted, Replayed: true}
		}
	}
	return out, nil
}
