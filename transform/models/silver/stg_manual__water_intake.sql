-- Manual water log (tap-manual, CSV): one row per drink; `time` is local wall-clock text.
{% call bronze_staging('manual__water_intake') %}
    ({{ j_text('time') }})::timestamp as drank_local,
    {{ j_date('time') }} as day,
    {{ j_num('amount_ml') }} as amount_ml,
    {{ j_text('drink') }} as drink
{% endcall %}
