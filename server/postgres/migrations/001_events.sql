-- One row per accepted access-log line. request_id and line identify where
-- the event came from, so tests can prove every acknowledged event is stored
-- exactly once.
CREATE TABLE events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  uuid        NOT NULL,
    line        integer     NOT NULL,
    ts          timestamptz NOT NULL,
    user_id     bigint      NOT NULL,
    path        text        NOT NULL,
    status      smallint    NOT NULL,
    latency_ms  integer     NOT NULL,
    bytes       bigint      NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- GET /users/{id}/events reads a user's newest events first.
CREATE INDEX events_user_recent ON events (user_id, ts DESC, id DESC);

---- create above / drop below ----

DROP TABLE events;
