-- The consumer side of a region: its mirror of partner cases, the positions it has consumed, the
-- events it could not apply (dead letters) and the events waiting for a missing version (gaps).
-- Mirror rows, history rows, dead letters, holds and positions change in one transaction per batch.

-- Partner cases as their source region last published them (snapshot: snapshot_to_json, stored
-- exactly like the source's own `cases` table so both sides digest the same).
CREATE TABLE mirror_cases (
    case_id           text PRIMARY KEY,
    source_region     text NOT NULL,
    version           integer NOT NULL CHECK (version >= 1),
    state             text NOT NULL,
    item_code         text NOT NULL,
    handling_mode     text NOT NULL,
    step_owner        text NOT NULL,
    promised_deadline date NOT NULL,
    correlation_id    text NOT NULL,
    updated_at        timestamptz NOT NULL,   -- occurred_at of the applied event
    snapshot          jsonb NOT NULL,
    last_event_id     uuid NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mirror_cases_source ON mirror_cases (source_region, case_id);

-- One row per applied event: the unique event_id is the "applied once" guarantee.
CREATE TABLE mirror_history (
    case_id        text NOT NULL,
    version        integer NOT NULL,
    event_id       uuid NOT NULL UNIQUE,
    event_type     text NOT NULL,
    state          text NOT NULL,
    source_region  text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    "offset"       bigint NOT NULL,
    -- The row's own write time, not the transaction start: sync latency is measured from it.
    applied_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (case_id, version)
);

-- The tracking rows: the next offset to read per partition, plus what happened to the records
-- before it. Locked (FOR UPDATE) by each batch, which fences a consumer that lost its partition.
CREATE TABLE consumer_positions (
    topic          text NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL CHECK (next_offset >= 0),
    applied        bigint NOT NULL DEFAULT 0,
    ignored        bigint NOT NULL DEFAULT 0,  -- duplicates and stale versions
    not_targeted   bigint NOT NULL DEFAULT 0,  -- events for other regions (data minimisation)
    held           bigint NOT NULL DEFAULT 0,
    dead_lettered  bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- Records that can never be applied, kept whole for a human; also the outbox of the DLQ topic.
CREATE TABLE dead_letters (
    id             bigserial PRIMARY KEY,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    "offset"       bigint NOT NULL,
    record_key     bytea,
    payload        bytea,
    stage          text NOT NULL,        -- decode, validate, sequence, store
    error_class    text NOT NULL,
    reason         text NOT NULL,
    event_id       text,
    case_id        text,
    dead_at        timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz,          -- when it reached the region's DLQ topic
    UNIQUE (topic, partition, "offset")
);
CREATE INDEX dead_letters_unpublished ON dead_letters (id) WHERE published_at IS NULL;

-- Events that arrived before an earlier version of their case (a gap): kept, visible, and applied
-- as soon as the missing version is.
CREATE TABLE held_events (
    case_id           text NOT NULL,
    version           integer NOT NULL,
    expected_version  integer NOT NULL,
    event_id          text NOT NULL,
    topic             text NOT NULL,
    partition         integer NOT NULL,
    "offset"          bigint NOT NULL,
    record_key        bytea,
    payload           bytea NOT NULL,
    held_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, version)
);

-- What operators look at: each case waiting for a version it has not received.
CREATE VIEW case_gaps AS
SELECT case_id,
       min(expected_version) AS missing_version,
       min(version)          AS first_held_version,
       count(*)              AS held_events,
       min(held_at)          AS waiting_since
FROM held_events
GROUP BY case_id;
