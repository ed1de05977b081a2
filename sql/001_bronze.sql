-- Bronze layer DDL. Applied idempotently by the loader (bronze_core.loader)
-- before the first load of every run, so `meltano run tap-x target-postgres`
-- works on an empty database. Safe to run by hand: psql -f sql/001_bronze.sql

CREATE SCHEMA IF NOT EXISTS bronze;

-- Bronze rows are immutable. target-postgres upserts on the key
-- (raw_id, raw_hash) by INSERTing new keys and UPDATEing existing ones; since an
-- existing key means an identical payload, the UPDATE must change nothing, not
-- even the lineage metadata or ingested_at of the first landing.
CREATE OR REPLACE FUNCTION bronze.keep_first_landing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END
$$;

-- Creates bronze.<table> with the columns every bronze table shares, its
-- indexes and the immutability trigger. Called by the loader for each stream
-- before target-postgres sees the table, so time columns are timestamptz (left
-- to itself target-postgres would create `timestamp without time zone`).
CREATE OR REPLACE FUNCTION bronze.ensure_table(p_schema text, p_table text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_table !~ '^[a-z0-9_]+$' OR p_schema !~ '^[a-z0-9_]+$' THEN
        RAISE EXCEPTION 'bronze table names are lower-case letters, digits and _; got %.%',
            p_schema, p_table;
    END IF;
    -- Two loaders starting at once must not race on CREATE TABLE.
    PERFORM pg_advisory_xact_lock(hashtext('bronze.ensure_table'));
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', p_schema);
    EXECUTE format($ddl$
        CREATE TABLE IF NOT EXISTS %I.%I (
            raw_id            text        NOT NULL,
            raw_hash          text        NOT NULL,
            source            text        NOT NULL,
            raw_data          jsonb       NOT NULL,
            source_timestamp  timestamptz,
            ingested_at       timestamptz NOT NULL DEFAULT now(),
            validation_status text        NOT NULL
                CHECK (validation_status IN ('valid', 'invalid', 'warning')),
            error_message     text,
            metadata          jsonb,
            PRIMARY KEY (raw_id, raw_hash)
        )$ddl$, p_schema, p_table);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (source_timestamp)',
                   p_table || '_source_timestamp_idx', p_schema, p_table);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I (validation_status)',
                   p_table || '_validation_status_idx', p_schema, p_table);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (raw_data)',
                   p_table || '_raw_data_idx', p_schema, p_table);
    EXECUTE format('CREATE OR REPLACE TRIGGER keep_first_landing BEFORE UPDATE ON %I.%I '
                   'FOR EACH ROW EXECUTE FUNCTION bronze.keep_first_landing()',
                   p_schema, p_table);
    -- ---- no DELETE / TRUNCATE unless meant (bronze.refuse_deletes, below) ----
    PERFORM bronze.refuse_deletes(p_schema, p_table);
    -- ---- end ----
END
$$;

-- ============================================================================
-- Bronze rows are never deleted by accident. DELETE and TRUNCATE on a bronze
-- table are refused unless the session says it means it:
--     SET bronze.allow_delete = on;   -- (SET LOCAL inside a transaction)
-- The loader never deletes (it only inserts; target-postgres's hard_delete
-- stays off). To erase rows on purpose, e.g. a person's own records:
--     SELECT bronze.erase('bronze.garmin__sleep', $w$raw_id = '2024-05-01'$w$);
-- Bookmarks are not rewound: an incremental run does not fetch erased rows
-- again; a full refresh (or a re-imported file) lands them again.
-- ============================================================================
CREATE OR REPLACE FUNCTION bronze.refuse_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('bronze.allow_delete', true), '') NOT IN ('on', 'true', '1') THEN
        RAISE EXCEPTION 'bronze rows are immutable: % on %.% refused', TG_OP,
            TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  HINT = format('To erase rows on purpose: SELECT bronze.erase(%L, <condition>); '
                                'or SET bronze.allow_delete = on in this session first.',
                                TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
    END IF;
    RETURN NULL;  -- statement-level: the value is ignored
END
$$;

-- Adds the refusal to one table (idempotent; ensure_table calls it on every
-- load, so tables created before it existed get it too).
CREATE OR REPLACE FUNCTION bronze.refuse_deletes(p_schema text, p_table text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE OR REPLACE TRIGGER refuse_delete BEFORE DELETE OR TRUNCATE ON %I.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION bronze.refuse_delete()',
                   p_schema, p_table);
END
$$;

-- Deletes the rows of one bronze table that match p_where (an SQL condition;
-- 'true' for every row) and returns how many. Runs with the caller's rights.
CREATE OR REPLACE FUNCTION bronze.erase(p_table regclass, p_where text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    previous text := current_setting('bronze.allow_delete', true);
    erased   bigint;
BEGIN
    IF coalesce(btrim(p_where), '') = '' THEN
        RAISE EXCEPTION 'bronze.erase: give a condition (''true'' erases every row of %)', p_table;
    END IF;
    PERFORM set_config('bronze.allow_delete', 'on', true);
    EXECUTE format('DELETE FROM %s WHERE %s', p_table, p_where);
    GET DIAGNOSTICS erased = ROW_COUNT;
    PERFORM set_config('bronze.allow_delete', coalesce(previous, ''), true);
    RETURN erased;
END
$$;
