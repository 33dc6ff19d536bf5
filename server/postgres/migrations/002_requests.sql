-- One row per POST /events that came with an Idempotency-Key, written in the
-- same transaction as its events: a retry that finds its key here stores
-- nothing and gets the first answer again, even across a crash. Keys are
-- kept at least KeyRetention (24 hours; see package server), then deleted.
CREATE TABLE requests (
    idempotency_key text        PRIMARY KEY,
    request_id      uuid        NOT NULL,
    body_sha256     bytea       NOT NULL,
    accepted        integer     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX requests_created ON requests (created_at);

---- create above / drop below ----

DROP TABLE requests;
