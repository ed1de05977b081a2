{{ config(materialized='incremental', unique_key='raw_id', incremental_strategy='delete+insert',
          on_schema_change='fail', indexes=[{'columns': ['read_through']}]) }}
-- The index on read_through finds the next run's cut-off (macros/bronze.sql, its max) without a scan.
-- Apple Health <Record>s (millions in a real export): one row per record, incremental.
-- Dates are written with their own offset ("2018-01-02 09:10:08 +0100"); `day` is the
-- calendar date as written there, i.e. the phone's own day, whatever `timezone` says.
with latest as (
    {{ latest_valid('apple_health__records', where=incremental_cutoff()) }}
)
select
    raw_id,
    source_timestamp,
    ingested_at,
    {{ read_through() }} as read_through,
    {{ j_text('type') }} as record_type,
    {{ j_text('unit') }} as unit,
    {{ j_num('value') }} as value,
    {{ j_text('value') }} as value_text,
    {{ j_text('sourceName') }} as source_name,
    {{ apple_time('startDate') }} as start_at,
    {{ apple_time('endDate') }} as end_at,
    {{ j_date('startDate') }} as day,
    {{ j_date('endDate') }} as end_day
from latest
