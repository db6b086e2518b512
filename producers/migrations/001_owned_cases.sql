-- The region's own cases, their history, and the transactional outbox.

CREATE TABLE cases (
    case_id           text PRIMARY KEY,
    version           integer NOT NULL CHECK (version >= 1),
    state             text NOT NULL,
    item_code         text NOT NULL,
    handling_mode     text NOT NULL,
    step_owner        text NOT NULL,
    promised_deadline date NOT NULL,
    correlation_id    text NOT NULL,
    target_regions    text[] NOT NULL,    -- the partner regions this case is shared with
    updated_at        timestamptz NOT NULL,
    snapshot          jsonb NOT NULL      -- casesync.snapshots.snapshot_to_json
);

CREATE TABLE case_history (
    case_id      text NOT NULL,
    version      integer NOT NULL,
    event_id     uuid NOT NULL UNIQUE,
    event_type   text NOT NULL,
    state        text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, version)
);

-- One row per event to publish. Rows of one case are inserted in version order, each after the
-- previous version committed (optimistic concurrency), so id order is each case's order.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL,      -- unique already through case_history
    case_id       text NOT NULL,
    case_version  integer NOT NULL,
    event_type    text NOT NULL,
    payload       bytea NOT NULL,     -- Avro single-object encoding, published as it is
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

-- The relay's work queue: tiny when the relay keeps up, so polling it when idle costs nothing.
-- No other index: marking a row published then touches only the heap and the primary key.
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
