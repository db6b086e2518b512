-- Wakes the region's relay the moment outbox rows commit, so an idle relay waits on its
-- connection instead of polling. A statement-level trigger: one NOTIFY per INSERT or COPY,
-- folded into one per transaction by PostgreSQL, delivered at commit and never on rollback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NOTIFY casesync_outbox;
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
