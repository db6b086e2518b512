-- Redrives of dead letters: who sent which dead letter back through the consumer's apply code,
-- when, and what became of it. Read by `casesync dlq` and `casesync ops status`.
--
-- outcome: applied (mirrored now), ignored (already applied or stale), held (waiting for an
-- earlier version, see case_gaps), not_targeted (not for this region), rejected (still refused;
-- stage/error_class/reason say why). Every outcome but rejected resolves the dead letter, and the
-- partial unique index lets at most one such row exist per dead letter: redriving is idempotent.
CREATE TABLE dead_letter_redrives (
    id              bigserial PRIMARY KEY,
    dead_letter_id  bigint NOT NULL REFERENCES dead_letters (id),
    requested_by    text NOT NULL,
    redriven_at     timestamptz NOT NULL DEFAULT now(),
    outcome         text NOT NULL
        CHECK (outcome IN ('applied', 'ignored', 'held', 'not_targeted', 'rejected')),
    resolved        boolean GENERATED ALWAYS AS (outcome <> 'rejected') STORED,
    stage           text,
    error_class     text,
    reason          text
);
CREATE UNIQUE INDEX dead_letter_redrives_once ON dead_letter_redrives (dead_letter_id)
    WHERE outcome <> 'rejected';
