-- Garmin Body Battery: the day's highest and lowest level, read from its values array
-- ([epoch ms, level] pairs; the level's index is given by the payload's descriptor list).
{% call bronze_staging('garmin__body_battery') %}
    {{ j_date('date') }} as day,
    (select max((v ->> 1)::int) from jsonb_array_elements({{ j_array('bodyBatteryValuesArray') }}) as v
     where jsonb_typeof(v -> 1) = 'number') as highest,
    (select min((v ->> 1)::int) from jsonb_array_elements({{ j_array('bodyBatteryValuesArray') }}) as v
     where jsonb_typeof(v -> 1) = 'number') as lowest,
    {{ j_int('charged') }} as charged,
    {{ j_int('drained') }} as drained
{% endcall %}
