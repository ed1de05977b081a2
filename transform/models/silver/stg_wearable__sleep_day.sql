-- Fitabase sleepDay: one row per participant and SleepDay (raw_id "<Id>|<ISO date>").
with latest as ({{ latest_valid('wearable__sleep_day') }})
select
    raw_id,
    source_timestamp,
    {{ j_text('Id') }} as user_id,
    split_part(raw_id, '|', 2)::date as sleep_day,
    {{ j_int('TotalSleepRecords') }} as sleep_records,
    {{ j_int('TotalMinutesAsleep') }} as minutes_asleep,
    {{ j_int('TotalTimeInBed') }} as minutes_in_bed
from latest
