-- Manual water log (tap-manual, CSV): one row per drink; `time` is local wall-clock text.
with latest as ({{ latest_valid('manual__water_intake') }})
select
    raw_id,
    source_timestamp,
    ({{ j_text('time') }})::timestamp as drank_local,
    {{ j_date('time') }} as day,
    {{ j_num('amount_ml') }} as amount_ml,
    {{ j_text('drink') }} as drink
from latest
