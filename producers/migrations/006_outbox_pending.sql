-- Changes recorded through SQL (casesync_api.record_change) enter the outbox before they are Avro:
-- SQL cannot encode Avro, so the row carries the event as JSON (pending_event) and no payload
-- until the relay's encoding step (producers.encoding.encode_pending) writes the payload in its
-- place, keeping the row's id and so its place in the case's order. A row that step refuses keeps
-- its JSON, gets refused_reason and is never published; casesync_api.refused_changes shows it.

ALTER TABLE outbox
    ALTER COLUMN payload DROP NOT NULL,
    ADD COLUMN pending_event jsonb,
    ADD COLUMN refused_reason text,
    ADD CONSTRAINT outbox_payload_or_pending CHECK (payload IS NOT NULL OR pending_event IS NOT NULL);

-- The encoding step's queue, and the relay's bound: nothing at or after its first id is
-- published before it is encoded (or refused). Empty except for a moment after SQL records.
CREATE INDEX outbox_unencoded ON outbox (id) WHERE payload IS NULL AND refused_reason IS NULL;

-- The interface regional systems call. Not named `casesync`: a schema named like the database role
-- comes first in the default search_path ("$user", public) and would capture every unqualified
-- table created after it.
CREATE SCHEMA casesync_api;

-- What the regional system reads to learn which of its changes will never be published, and why.
CREATE VIEW casesync_api.refused_changes AS
    SELECT id, event_id, case_id, case_version, event_type, refused_reason, created_at
    FROM outbox WHERE refused_reason IS NOT NULL;
