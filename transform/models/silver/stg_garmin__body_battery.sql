-- Garmin Body Battery: the day's highest and lowest level, read from its values array
-- ([epoch ms, level] pairs; the level's index is given by the payload's descriptor list).
with latest as ({{ latest_valid('garmin__body_battery') }})
select
    raw_id,
    source_timestamp,
    {{ j_date('date') }} as day,
    (select max((v ->> 1)::int) from jsonb_array_elements(
        case when jsonb_typeof(raw_data -> 'bodyBatteryValuesArray') = 'array'
             then raw_data -> 'bodyBatteryValuesArray' else '[]'::jsonb end) as v
     where jsonb_typeof(v -> 1) = 'number') as highest,
    (select min((v ->> 1)::int) from jsonb_array_elements(
        case when jsonb_typeof(raw_data -> 'bodyBatteryValuesArray') = 'array'
             then raw_data -> 'bodyBatteryValuesArray' else '[]'::jsonb end) as v
     where jsonb_typeof(v -> 1) = 'number') as lowest,
    {{ j_int('charged') }} as charged,
    {{ j_int('drained') }} as drained
from latest
