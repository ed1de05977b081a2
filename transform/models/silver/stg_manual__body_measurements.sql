-- Manual log of body measurements (tap-manual, JSON lines): one row per entry and its date.
{% call bronze_staging('manual__body_measurements') %}
    {{ j_date('date') }} as day,
    {{ j_num('weight_kg') }} as weight_kg,
    {{ j_num('waist_cm') }} as waist_cm,
    {{ j_num('chest_cm') }} as chest_cm
{% endcall %}
