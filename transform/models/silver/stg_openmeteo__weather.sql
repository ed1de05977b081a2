-- Open-Meteo daily weather per configured place (raw_id "<place>:<date>"); each payload
-- is one day, its daily arrays have one element.
{% call bronze_staging('openmeteo__weather') %}
    split_part(raw_id, ':', 1) as place,
    {{ j_date('daily,time,0') }} as day,
    {{ j_num('daily,temperature_2m_max,0') }} as temperature_max_c,
    {{ j_num('daily,temperature_2m_min,0') }} as temperature_min_c,
    {{ j_num('daily,precipitation_sum,0') }} as precipitation_mm,
    {{ j_num('latitude') }} as latitude,
    {{ j_num('longitude') }} as longitude
{% endcall %}
