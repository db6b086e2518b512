-- What the region's relay last said about publishing, for `ops status`: one row, written when
-- it starts leading and when a broker outage starts, goes on or ends, never per record.
CREATE TABLE relay_health (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    publishing  boolean NOT NULL,
    reason      text NOT NULL DEFAULT '',
    since       timestamptz NOT NULL,   -- when the current state began
    reported_at timestamptz NOT NULL
);
