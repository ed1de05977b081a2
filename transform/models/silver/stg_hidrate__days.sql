-- HidrateSpark day totals: one row per day (date.iso is midnight of the app's day, in UTC).
{% call bronze_staging('hidrate__days') %}
    {{ j_date('date,iso') }} as day,
    {{ j_num('totalAmount') }} as total_ml,
    {{ j_num('goal') }} as goal_ml
{% endcall %}
