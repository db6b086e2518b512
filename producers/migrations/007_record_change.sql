-- casesync_api.record_change: record one change of one of this region's cases from any language, in
-- the caller's own transaction (JDBC, ODBC, psql). It checks what producers.changes.build_event
-- checks, against the rules region init loads into casesync_rules, and writes the case row, its
-- history row and an outbox row waiting to be encoded. A refused change raises with a SQLSTATE of
-- class CS (README, "Recording changes from your system"), so the caller's transaction rolls
-- back and nothing is written.

-- Raise a casesync refusal: its SQLSTATE names the rule, its message the case.
CREATE FUNCTION casesync_rules.refuse(sqlstate text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = sqlstate, MESSAGE = message;
END
$$;

-- An instant as Python's datetime.isoformat() writes a UTC one, so that a snapshot recorded here
-- reads back (and digests) exactly as one recorded by the Python recorder.
CREATE FUNCTION casesync_rules.iso_instant(at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN extract(microseconds FROM at)::bigint % 1000000 = 0 THEN ''
                ELSE to_char(at AT TIME ZONE 'UTC', '.US') END
        || '+00:00'
$$;

-- The n-th working day after start (n = 0: start or the next working day); NULL outside the
-- calendar. Working day k+n where k counts the working days up to start.
CREATE FUNCTION casesync_rules.add_working_days(start date, n integer) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN start < (SELECT min(day) FROM casesync_rules.working_days) THEN NULL
        WHEN n = 0 THEN (SELECT min(day) FROM casesync_rules.working_days WHERE day >= start)
        ELSE (SELECT day FROM casesync_rules.working_days WHERE ordinal = n + coalesce(
            (SELECT max(ordinal) FROM casesync_rules.working_days WHERE day <= start), 0))
    END
$$;

-- casesync.domain.agreements.AgreementIndex.is_shared.
CREATE FUNCTION casesync_rules.is_shared(item text, source text, target text, on_day date)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT source <> target AND EXISTS (
        SELECT 1 FROM casesync_rules.agreements a
        WHERE item = ANY (a.items) AND a.effective_from <= on_day
          AND (a.effective_until IS NULL OR on_day <= a.effective_until)
          AND (a.national OR (source = ANY (a.members) AND target = ANY (a.members))))
$$;

-- casesync.domain.agreements.AgreementIndex.targets_for, sorted.
CREATE FUNCTION casesync_rules.targets_for(item text, source text, on_day date)
RETURNS text[] LANGUAGE sql STABLE AS $$
    WITH in_force AS (
        SELECT * FROM casesync_rules.agreements a
        WHERE item = ANY (a.items) AND a.effective_from <= on_day
          AND (a.effective_until IS NULL OR on_day <= a.effective_until))
    SELECT coalesce(array_agg(code ORDER BY code), '{}') FROM (
        SELECT code FROM casesync_rules.regions
        WHERE EXISTS (SELECT 1 FROM in_force WHERE national)
        UNION
        SELECT unnest(members) FROM in_force
        WHERE NOT EXISTS (SELECT 1 FROM in_force WHERE national) AND source = ANY (members)
    ) AS targets (code)
    WHERE code <> source
$$;

-- The applicant as the snapshot stores it (all four keys); CS008 when it is not one.
CREATE FUNCTION casesync_rules.applicant_json(case_id text, applicant jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(applicant) IS DISTINCT FROM 'object'
       OR coalesce(applicant ->> 'kind', '') NOT IN ('PERSON', 'COMPANY')
       OR coalesce(applicant ->> 'name', '') = '' THEN
        PERFORM casesync_rules.refuse('CS008', format(
            'case %s: applicant must be an object with kind PERSON or COMPANY and a name', case_id));
    END IF;
    RETURN jsonb_build_object(
        'kind', applicant ->> 'kind', 'name', applicant ->> 'name',
        'id_number', applicant ->> 'id_number', 'credit_code', applicant ->> 'credit_code');
END
$$;

-- Materials as the snapshot stores them (all four keys); CS008 when they are not a list of them.
CREATE FUNCTION casesync_rules.materials_json(case_id text, materials jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(materials) IS DISTINCT FROM 'array' OR EXISTS (
        SELECT 1 FROM jsonb_array_elements(materials) m
        WHERE jsonb_typeof(m) <> 'object' OR coalesce(m ->> 'code', '') = ''
           OR m ->> 'name' IS NULL
           OR coalesce(m ->> 'status', '') NOT IN ('REQUIRED', 'SUBMITTED', 'ACCEPTED', 'REJECTED'))
    THEN
        PERFORM casesync_rules.refuse('CS008', format(
            'case %s: materials must be a list of {code, name, status, digest}', case_id));
    END IF;
    RETURN (SELECT coalesce(jsonb_agg(jsonb_build_object(
                'code', m ->> 'code', 'name', m ->> 'name', 'status', m ->> 'status',
                'digest', m ->> 'digest') ORDER BY n), '[]')
            FROM jsonb_array_elements(materials) WITH ORDINALITY AS e (m, n));
END
$$;

CREATE FUNCTION casesync_api.record_change(
    case_id text,
    event_type text,
    expected_version bigint,
    fields jsonb DEFAULT '{}',            -- new cases: item_code, handling_mode, applicant, …
    occurred_at timestamptz DEFAULT now()
) RETURNS TABLE (version bigint, event_id uuid)
LANGUAGE plpgsql AS $$
DECLARE
    v_region      text;
    v_current     record;
    v_found       boolean;
    v_item        casesync_rules.items;
    v_mode        text;
    v_from        text;
    v_to          text;
    v_snapshot    jsonb;
    v_targets     text[];
    v_target      text;
    v_correlation text;
    v_deadline    date;
    v_on          date := (occurred_at AT TIME ZONE INTERVAL '08:00')::date;  -- China's date
    v_event_id    uuid := gen_random_uuid();
    v_version     bigint := expected_version + 1;
BEGIN
    -- 1. The request's own shape.
    SELECT r.code INTO v_region FROM casesync_rules.own_region r;
    IF v_region IS NULL THEN
        PERFORM casesync_rules.refuse('CS010',
            'the recording rules are not loaded in this database: run casesync region init');
    END IF;
    fields := coalesce(fields, '{}');
    IF coalesce(case_id, '') = '' OR coalesce(event_type, '') = '' OR occurred_at IS NULL
       OR expected_version IS NULL OR expected_version < 0 OR jsonb_typeof(fields) <> 'object' THEN
        PERFORM casesync_rules.refuse('CS008', 'record_change needs a case id, an event type, an '
            'expected version of 0 or more, an occurred_at and fields as a JSON object');
    END IF;
    IF fields ? 'workflow_step' THEN
        PERFORM casesync_rules.refuse('CS008', format('case %s: workflow steps are recorded by '
            'the workflow engine, not through record_change', case_id));
    END IF;

    -- 2. The version guard. FOR UPDATE makes a concurrent change of the same case wait here
    --    until the other transaction ends, then see the version it wrote and lose.
    SELECT c.version, c.snapshot, c.correlation_id, c.target_regions INTO v_current
        FROM cases c WHERE c.case_id = record_change.case_id FOR UPDATE;
    v_found := FOUND;
    IF v_found AND v_current.version <> expected_version THEN
        PERFORM casesync_rules.refuse('CS001', format(
            'case %s: expected version %s, but it is at version %s',
            case_id, expected_version, v_current.version));
    ELSIF NOT v_found AND expected_version <> 0 THEN
        PERFORM casesync_rules.refuse('CS001', format(
            'case %s: expected version %s, but it does not exist', case_id, expected_version));
    END IF;

    -- 3. The new snapshot (producers.changes._new_case and _changed_case).
    IF NOT v_found THEN
        v_mode := fields ->> 'handling_mode';
        IF fields ->> 'item_code' IS NULL OR v_mode IS NULL OR fields -> 'applicant' IS NULL THEN
            PERFORM casesync_rules.refuse('CS008', format(
                'case %s: a new case needs item_code, handling_mode and applicant', case_id));
        END IF;
        IF NOT EXISTS (SELECT 1 FROM casesync_rules.transitions t WHERE t.handling_mode = v_mode)
        THEN
            PERFORM casesync_rules.refuse('CS008', format(
                'case %s: %s is not a handling mode', case_id, v_mode));
        END IF;
        -- The national code, or the region's own local code for it.
        SELECT i.* INTO v_item FROM casesync_rules.items i WHERE i.code = coalesce(
            (SELECT l.item_code FROM casesync_rules.local_codes l
              WHERE l.region = v_region AND l.local_code = fields ->> 'item_code'),
            fields ->> 'item_code');
        IF NOT FOUND THEN
            PERFORM casesync_rules.refuse('CS004', format(
                'case %s: %s is neither a national item code nor a local one of region %s',
                case_id, fields ->> 'item_code', v_region));
        END IF;
        v_deadline := casesync_rules.add_working_days(v_on, v_item.time_limit_days);
        IF v_deadline IS NULL THEN
            PERFORM casesync_rules.refuse('CS009', format(
                'case %s: the working-day calendar does not cover %s', case_id, v_on));
        END IF;
        v_snapshot := jsonb_build_object(
            'item_code', v_item.code, 'handling_mode', v_mode, 'owner_region', v_region,
            'applicant', casesync_rules.applicant_json(case_id, fields -> 'applicant'),
            'materials', CASE WHEN fields ? 'materials'
                THEN casesync_rules.materials_json(case_id, fields -> 'materials')
                ELSE (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'code', m.code, 'name', m.name, 'status', 'SUBMITTED', 'digest', NULL)
                        ORDER BY m.position), '[]')
                      FROM casesync_rules.materials m
                      WHERE m.item_code = v_item.code AND m.region = v_region) END,
            'submitted_at', casesync_rules.iso_instant(occurred_at),
            'promised_deadline', to_char(v_deadline, 'YYYY-MM-DD'),
            'workflow_step', NULL);
        IF fields ? 'target_regions' THEN
            IF jsonb_typeof(fields -> 'target_regions') <> 'array' THEN
                PERFORM casesync_rules.refuse('CS008', format(
                    'case %s: target_regions must be a list of region codes', case_id));
            END IF;
            SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}') INTO v_targets
                FROM jsonb_array_elements_text(fields -> 'target_regions') AS e (t);
        ELSE
            v_targets := casesync_rules.targets_for(v_item.code, v_region, v_on);
        END IF;
        v_correlation := case_id;
    ELSE
        v_snapshot := v_current.snapshot;
        IF v_snapshot ->> 'owner_region' <> v_region THEN
            PERFORM casesync_rules.refuse('CS003', format('case %s is owned by %s, not %s',
                case_id, v_snapshot ->> 'owner_region', v_region));
        END IF;
        IF fields ->> 'item_code' <> v_snapshot ->> 'item_code'
           OR fields ->> 'handling_mode' <> v_snapshot ->> 'handling_mode' THEN
            PERFORM casesync_rules.refuse('CS008', format(
                'case %s: item and handling mode cannot change', case_id));
        END IF;
        v_mode := v_snapshot ->> 'handling_mode';
        v_from := v_snapshot ->> 'state';
        SELECT i.* INTO v_item FROM casesync_rules.items i WHERE i.code = v_snapshot ->> 'item_code';
        IF NOT FOUND THEN
            PERFORM casesync_rules.refuse('CS004', format('case %s: item %s is no longer in the '
                'catalogue', case_id, v_snapshot ->> 'item_code'));
        END IF;
        IF fields ? 'applicant' THEN
            v_snapshot := v_snapshot || jsonb_build_object(
                'applicant', casesync_rules.applicant_json(case_id, fields -> 'applicant'));
        END IF;
        IF fields ? 'materials' THEN
            v_snapshot := v_snapshot || jsonb_build_object(
                'materials', casesync_rules.materials_json(case_id, fields -> 'materials'));
        END IF;
        v_targets := v_current.target_regions;
        v_correlation := v_current.correlation_id;
    END IF;

    -- 4. The handling mode's state machine (casesync.domain.lifecycle.next_state).
    SELECT t.to_state INTO v_to FROM casesync_rules.transitions t
        WHERE t.handling_mode = v_mode AND t.from_state IS NOT DISTINCT FROM v_from
          AND t.event_type = record_change.event_type;
    IF v_to IS NULL THEN
        PERFORM casesync_rules.refuse('CS002', format('%s is not allowed from %s in %s',
            event_type, coalesce(v_from, 'a new case'), v_mode));
    END IF;
    v_snapshot := v_snapshot || jsonb_build_object(
        'state', v_to, 'step_owner', coalesce(fields ->> 'step_owner', v_region));

    -- 5. What the event may carry and where it may go (casesync.domain.validation
    --    .validate_outgoing): the mode is offered, the applicant minimised, each target shares.
    IF NOT v_mode = ANY (v_item.handling_modes) THEN
        PERFORM casesync_rules.refuse('CS005', format(
            'case %s: item %s is not offered %s', case_id, v_item.code, v_mode));
    END IF;
    -- Name the field, never its value: ID numbers are personal data.
    IF v_snapshot -> 'applicant' ->> 'id_number' IS NOT NULL
       AND NOT 'id_number' = ANY (v_item.applicant_fields) THEN
        PERFORM casesync_rules.refuse('CS006', format(
            'case %s: item %s does not need the applicant''s id_number', case_id, v_item.code));
    END IF;
    IF v_snapshot -> 'applicant' ->> 'credit_code' IS NOT NULL
       AND NOT 'credit_code' = ANY (v_item.applicant_fields) THEN
        PERFORM casesync_rules.refuse('CS006', format(
            'case %s: item %s does not need the applicant''s credit_code', case_id, v_item.code));
    END IF;
    FOREACH v_target IN ARRAY v_targets LOOP
        IF NOT EXISTS (SELECT 1 FROM casesync_rules.regions r WHERE r.code = v_target)
           OR NOT casesync_rules.is_shared(v_item.code, v_region, v_target, v_on) THEN
            PERFORM casesync_rules.refuse('CS007', format(
                'case %s: item %s is not shared from %s to %s on %s',
                case_id, v_item.code, v_region, v_target, v_on));
        END IF;
    END LOOP;

    -- 6. Write the case, its history and the outbox row the relay encodes before publishing.
    IF NOT v_found THEN
        INSERT INTO cases AS c (case_id, version, state, item_code, handling_mode, step_owner,
                                promised_deadline, correlation_id, target_regions, updated_at,
                                snapshot)
        VALUES (record_change.case_id, v_version, v_to, v_item.code, v_mode,
                v_snapshot ->> 'step_owner', v_deadline, v_correlation, v_targets,
                record_change.occurred_at, v_snapshot)
        ON CONFLICT ON CONSTRAINT cases_pkey DO NOTHING;
        IF NOT FOUND THEN  -- another transaction created it after step 2
            PERFORM casesync_rules.refuse('CS001', format(
                'case %s: expected version 0, but another change created it meanwhile', case_id));
        END IF;
    ELSE
        UPDATE cases c SET version = v_version, state = v_to,
            step_owner = v_snapshot ->> 'step_owner', updated_at = record_change.occurred_at,
            snapshot = v_snapshot
            WHERE c.case_id = record_change.case_id;
    END IF;
    INSERT INTO case_history AS h (case_id, version, event_id, event_type, state, occurred_at)
        VALUES (record_change.case_id, v_version, v_event_id, record_change.event_type, v_to,
                record_change.occurred_at);
    INSERT INTO outbox AS o (event_id, case_id, case_version, event_type, payload, target_regions,
                             pending_event)
        VALUES (v_event_id, record_change.case_id, v_version, record_change.event_type, NULL,
            v_targets,
            jsonb_build_object(
                'event_id', v_event_id, 'event_type', record_change.event_type,
                'case_id', record_change.case_id, 'case_version', v_version,
                'source_region', v_region,
                'occurred_at', casesync_rules.iso_instant(record_change.occurred_at),
                'correlation_id', coalesce(fields ->> 'correlation_id', v_correlation),
                'causation_id', fields ->> 'causation_id',
                'target_regions', to_jsonb(v_targets), 'snapshot', v_snapshot));
    RETURN QUERY SELECT v_version, v_event_id;
END
$$;
