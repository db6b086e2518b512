-- A regional system's transaction around casesync_api.record_change, as psql runs it:
--   psql "$URL" -v case_id=RD-1 -v event=CASE_SUBMITTED -v expected=0 -v fields='{…}' \
--        -v finish=COMMIT -v hold=0 -f record_change.sql
-- It writes a row of its own, records the change, waits `hold` seconds holding the case (to
-- lose a race on purpose) and ends with `finish` (COMMIT or ROLLBACK). A refused change stops
-- the script (exit 3) with its SQLSTATE on stderr; the transaction then writes nothing.
\set ON_ERROR_STOP on
\set VERBOSITY verbose
\if :{?fields} \else \set fields '{}' \endif
\if :{?hold} \else \set hold 0 \endif
\if :{?finish} \else \set finish COMMIT \endif

BEGIN;
INSERT INTO regional_notes (case_id, note) VALUES (:'case_id', 'filed at the counter');
SELECT version, event_id
    FROM casesync_api.record_change(:'case_id', :'event', :expected, :'fields');
SELECT pg_sleep(:hold);
:finish;
