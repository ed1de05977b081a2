-- What is in bronze, per table: one row per bronze table with its size, how
-- recent its data is and how much of it failed validation. Backs
-- `make status` (scripts/status.py); also one query away:
--     SELECT * FROM bronze.status;

CREATE OR REPLACE FUNCTION bronze.table_stats()
RETURNS TABLE (
    table_name text, source text, stream text, row_count bigint,
    newest_source_timestamp timestamptz, last_ingested_at timestamptz,
    invalid_count bigint, warning_count bigint
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.table_name AS name FROM information_schema.tables c
        WHERE c.table_schema = 'bronze' AND c.table_type = 'BASE TABLE' AND c.table_name LIKE '%\_\_%'
        ORDER BY c.table_name
    LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %L::text, split_part(%L, ''__'', 1), split_part(%L, ''__'', 2), count(*),
                    max(source_timestamp), max(ingested_at),
                    count(*) FILTER (WHERE validation_status = ''invalid''),
                    count(*) FILTER (WHERE validation_status = ''warning'')
             FROM bronze.%I', t.name, t.name, t.name, t.name);
    END LOOP;
END
$$;

CREATE OR REPLACE VIEW bronze.status AS SELECT * FROM bronze.table_stats();

-- Invalid rows someone has looked at (`make status ACK=<table>`): bronze rows
-- are immutable, so they are not fixed in place; `make status` counts only
-- the invalid rows that landed after a table's latest acknowledgement.
-- Append-only, like the rest of bronze.
DO $$
BEGIN
    -- Loaders starting together must not race on CREATE TABLE.
    PERFORM pg_advisory_xact_lock(hashtext('bronze.status_acknowledged'));
    CREATE TABLE IF NOT EXISTS bronze.status_acknowledged (
        table_name text NOT NULL,
        acknowledged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        acknowledged_by text NOT NULL DEFAULT current_user
    );
END
$$;
