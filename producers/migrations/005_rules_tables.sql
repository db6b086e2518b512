-- The recording rules, materialised from the shipped domain data (casesync/domain/data/*.json and
-- casesync.domain.lifecycle) so that casesync_api.record_change can enforce them inside any caller's
-- transaction. `region init` fills these tables (producers.intake_rules); nothing here is typed
-- by hand, and a reload replaces every row in one transaction.

CREATE SCHEMA casesync_rules;

-- The region this database belongs to (one row).
CREATE TABLE casesync_rules.own_region (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    code      text NOT NULL
);

CREATE TABLE casesync_rules.regions (
    code text PRIMARY KEY
);

CREATE TABLE casesync_rules.items (
    code             text PRIMARY KEY,          -- national basic code
    time_limit_days  integer NOT NULL,          -- working days
    handling_modes   text[] NOT NULL,
    applicant_fields text[] NOT NULL            -- identifiers the item may carry
);

-- A region's own item codes, mapped to the national one at the edge.
CREATE TABLE casesync_rules.local_codes (
    region     text NOT NULL,
    local_code text NOT NULL,
    item_code  text NOT NULL,
    PRIMARY KEY (region, local_code)
);

-- The materials a region requires for an item, in catalogue order.
CREATE TABLE casesync_rules.materials (
    item_code text NOT NULL,
    region    text NOT NULL,
    position  integer NOT NULL,
    code      text NOT NULL,
    name      text NOT NULL,
    PRIMARY KEY (item_code, region, position)
);

CREATE TABLE casesync_rules.agreements (
    id              text PRIMARY KEY,
    national        boolean NOT NULL,           -- every region is a member
    members         text[] NOT NULL,
    items           text[] NOT NULL,
    effective_from  date NOT NULL,
    effective_until date                        -- last day in force, inclusive
);

-- The state machine of each handling mode; from_state NULL is a new case.
CREATE TABLE casesync_rules.transitions (
    handling_mode text NOT NULL,
    from_state    text,
    event_type    text NOT NULL,
    to_state      text NOT NULL
);
CREATE UNIQUE INDEX transitions_key
    ON casesync_rules.transitions (handling_mode, coalesce(from_state, ''), event_type);

-- Every working day the calendar knows, numbered: the n-th working day after a date is a lookup.
CREATE TABLE casesync_rules.working_days (
    day     date PRIMARY KEY,
    ordinal integer NOT NULL UNIQUE
);
