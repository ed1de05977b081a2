-- HidrateSpark day totals: one row per day (date.iso is midnight of the app's day, in UTC).
with latest as ({{ latest_valid('hidrate__days') }})
select
    raw_id,
    source_timestamp,
    {{ j_date('date,iso') }} as day,
    {{ j_num('totalAmount') }} as total_ml,
    {{ j_num('goal') }} as goal_ml
from latest
