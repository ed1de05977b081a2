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

-- The name of one of a bronze table's indexes (p_kind: 'pkey',
-- 'source_timestamp_idx', 'validation_status_idx', 'raw_data_idx', 'ingested_at_idx').
-- `<table>__<kind>`, or when that exceeds PostgreSQL's 63 bytes the cut table
-- name, an md5 of the whole name and the kind. Never a table name: a stream's
-- table (bronze_core.streams.stream_name) is `<source>__<slug>` with one `__`,
-- or ends in `__` and ten hex digits; an index name has a second `__` and ends
-- in `idx` or `pkey`. (PostgreSQL's own `<table>_<column>_idx` was cut to the
-- table's name for a 63-character table, and `<a>_raw_data_idx` was the name
-- of the table of a folder called `a_raw_data_idx`.)
CREATE OR REPLACE FUNCTION bronze.index_name(p_table text, p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN octet_length(p_table || '__' || p_kind) <= 63 THEN p_table || '__' || p_kind
                ELSE left(p_table, 63 - 12 - length(p_kind)) || '__' || left(md5(p_table), 8)
                     || '_' || p_kind END
$$;

-- Whether p_index (a name as PostgreSQL gave it before bronze.index_name) is
-- an index of table p_schema.p_table.
CREATE OR REPLACE FUNCTION bronze.is_index_of(p_schema text, p_table text, p_index text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT octet_length(p_index) <= 63 AND EXISTS (
        SELECT FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE i.relnamespace = p_schema::regnamespace AND i.relname = p_index
          AND x.indrelid = to_regclass(format('%I.%I', p_schema, p_table)))
$$;

-- Creates bronze.<table> with the columns every bronze table shares, its
-- indexes and the immutability trigger. Called by the loader for each stream
-- before target-postgres sees the table, so time columns are timestamptz (left
-- to itself target-postgres would create `timestamp without time zone`).
-- Tables made before index names were bronze.index_name's get their indexes
-- renamed (a catalog change only), so none is built twice.
CREATE OR REPLACE FUNCTION bronze.ensure_table(p_schema text, p_table text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_kind text;
    v_column text;
    v_method text;
    v_taken record;
BEGIN
    IF p_table !~ '^[a-z0-9_]+$' OR p_schema !~ '^[a-z0-9_]+$' OR length(p_table) > 63 THEN
        RAISE EXCEPTION 'bronze table names are up to 63 lower-case letters, digits and _; got %.%',
            p_schema, p_table;
    END IF;
    -- Two loaders starting at once must not race on CREATE TABLE.
    PERFORM pg_advisory_xact_lock(hashtext('bronze.ensure_table'));
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', p_schema);
    -- The name may be held by an old-style index of another table (`a_raw_data_idx`):
    -- give that index its new name, so the table can be created.
    SELECT i.relname AS index_name, t.relname AS table_name INTO v_taken
    FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid JOIN pg_class t ON t.oid = x.indrelid
    WHERE i.relnamespace = p_schema::regnamespace AND i.relname = p_table;
    IF FOUND THEN
        IF left(v_taken.index_name, length(v_taken.table_name) + 1) <> v_taken.table_name || '_' THEN
            RAISE EXCEPTION 'bronze table %.% cannot be created: index % of table % has that name',
                p_schema, p_table, v_taken.index_name, v_taken.table_name;
        END IF;
        EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', p_schema, v_taken.index_name,
                       bronze.index_name(v_taken.table_name,
                                         substr(v_taken.index_name, length(v_taken.table_name) + 2)));
    END IF;
    IF to_regclass(format('%I.%I', p_schema, p_table)) IS NULL THEN
        EXECUTE format($ddl$
            CREATE TABLE %I.%I (
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
                CONSTRAINT %I PRIMARY KEY (raw_id, raw_hash)
            )$ddl$, p_schema, p_table, bronze.index_name(p_table, 'pkey'));
    ELSIF bronze.is_index_of(p_schema, p_table, p_table || '_pkey') THEN
        EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', p_schema, p_table || '_pkey',
                       bronze.index_name(p_table, 'pkey'));
    END IF;
    FOR v_kind, v_column, v_method IN VALUES
        ('source_timestamp_idx', 'source_timestamp', 'btree'),
        ('validation_status_idx', 'validation_status', 'btree'),
        ('raw_data_idx', 'raw_data', 'gin'),
        -- Incremental dbt models read `ingested_at >= <last build>`. Bronze is
        -- append-only and rows land in ingested_at order, so a BRIN index (a few
        -- pages per million rows, next to nothing to keep up) finds the new rows
        -- without a scan of the table. Older tables get it on their next load.
        ('ingested_at_idx', 'ingested_at', 'brin')
    LOOP
        CONTINUE WHEN to_regclass(format('%I.%I', p_schema, bronze.index_name(p_table, v_kind))) IS NOT NULL;
        IF bronze.is_index_of(p_schema, p_table, p_table || '_' || v_kind) THEN
            EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', p_schema, p_table || '_' || v_kind,
                           bronze.index_name(p_table, v_kind));
        ELSE
            EXECUTE format('CREATE INDEX %I ON %I.%I USING %s (%I)', bronze.index_name(p_table, v_kind),
                           p_schema, p_table, v_method, v_column);
        END IF;
    END LOOP;
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
--     SELECT bronze.erase('bronze.<source>__<stream>', $w$raw_id = '2024-05-01'$w$);
-- Bookmarks are not rewound: an incremental run does not fetch erased rows
-- again; a full refresh (or a re-imported file) lands them again. Erasures are
-- listed in bronze.erasures (table, when), never what was erased.
-- ============================================================================
-- Every DELETE or TRUNCATE let through is written down (one row per statement, in its
-- transaction): dbt's marts are rebuilt when rows they read were erased since they
-- were built (transform/macros/unchanged.sql). Append-only, like the rest of bronze.
CREATE TABLE IF NOT EXISTS bronze.erasures (
    table_schema text        NOT NULL,
    table_name   text        NOT NULL,
    erased_at    timestamptz NOT NULL DEFAULT now()
);

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
    INSERT INTO bronze.erasures (table_schema, table_name) VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME);
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
