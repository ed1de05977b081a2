{{ config(materialized='incremental', unique_key='raw_id', incremental_strategy='delete+insert',
          on_schema_change='fail', indexes=[{'columns': ['read_through']}]) }}
-- The index on read_through finds the next run's cut-off (macros/bronze.sql, its max) without a scan.
-- Fitabase heartrate_seconds (millions of rows): one reading per participant and second,
-- incremental. raw_id is "<Id>|<ISO local time>" (the file's zone-less time, normalised by
-- the tap), so the reading's own wall-clock time and day come from there.
with latest as (
    {{ latest_valid('wearable__heartrate_seconds', where=incremental_cutoff()) }}
)
select
    raw_id,
    source_timestamp,
    ingested_at,
    {{ read_through() }} as read_through,
    split_part(raw_id, '|', 1) as user_id,
    split_part(raw_id, '|', 2)::timestamp as measured_local,
    split_part(raw_id, '|', 2)::date as day,
    {{ j_int('Value') }} as bpm
from latest
