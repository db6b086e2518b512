-- The HTTP intake (casesync serve): the region's bearer tokens, stored only as digests, and the
-- idempotency keys of the changes it recorded. A key row is written in the same transaction as
-- the change it answers for, so a crash can never leave a change recorded without its key (a
-- retry would record it twice) or a key without its change.

CREATE SCHEMA casesync_intake;

CREATE TABLE casesync_intake.tokens (
    token_id     text PRIMARY KEY,              -- the public part of a token, to name it by
    token_sha256 bytea NOT NULL,                -- SHA-256 of the whole token (never the token)
    label        text NOT NULL,                 -- which system holds it, for people
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);

CREATE TABLE casesync_intake.idempotency_keys (
    idempotency_key text PRIMARY KEY,
    request_sha256  bytea NOT NULL,             -- of the canonical request body: same key, same body
    token_id        text NOT NULL,
    answer          jsonb,                      -- what the first request was told (no personal data)
    created_at      timestamptz NOT NULL DEFAULT now()
);
-- The retention sweep deletes by age.
CREATE INDEX idempotency_keys_age ON casesync_intake.idempotency_keys (created_at);
