{#- The daily health metrics, in mart.daily_health's column order. Each source's daily
    rows (silver.daily_health_by_source) give what they know and NULL for the rest. -#}
{% macro health_metrics() -%}
  {{ return(['steps', 'distance_m', 'active_minutes', 'resting_heart_rate',
             'sleep_minutes', 'deep_sleep_minutes', 'rem_sleep_minutes', 'sleep_score',
             'hrv_ms', 'average_stress', 'body_battery_high', 'body_battery_low',
             'weight_kg', 'water_ml']) }}
{%- endmacro %}

{#- One source's daily rows in the common shape: `values` maps a metric to its SQL
    expression; metrics it does not give are NULL. -#}
{% macro health_rows(source_name, day, values, relation, where='true', group_by=false) -%}
    select '{{ source_name }}'::text as source, {{ day }} as day
    {%- for metric in health_metrics() %},
        ({{ values.get(metric, 'null') }})::numeric as {{ metric }}
    {%- endfor %}
    from {{ relation }}
    where {{ day }} is not null and ({{ where }})
    {%- if group_by %}
    group by {{ day }}
    {%- endif %}
{%- endmacro %}
