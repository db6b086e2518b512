-- Rows the relay keeps in the outbox because an inbox they go to is not visible to its principal
-- (the topic is missing, or no agreement grants WRITE on it), and why: for `ops status`.
-- Written when that changes, never per record.
ALTER TABLE relay_health
    ADD COLUMN held_rows   integer NOT NULL DEFAULT 0,
    ADD COLUMN held_reason text NOT NULL DEFAULT '';
