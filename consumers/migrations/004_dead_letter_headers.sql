-- A dead letter keeps its record's headers too: the routing headers (source and target region)
-- are checked again when it is redriven. Dead letters kept before this have none.
ALTER TABLE dead_letters
    ADD COLUMN header_names  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN header_values bytea[] NOT NULL DEFAULT '{}';
