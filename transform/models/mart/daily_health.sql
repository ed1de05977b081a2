-- One row per calendar day: the day's health values, weather at home and hours tracked.
-- Where several sources give a metric, the first in var `health_precedence` that has a
-- value wins; `<metric>_source` says which one it was. Change the order with
-- --vars '{health_precedence: [apple_health, garmin, garmin_export, fitabase, manual, hidrate]}'.
{% set precedence = var('health_precedence') %}
with ranked as (
    select b.*, array_position(array[{% for s in precedence %}'{{ s }}'{{ ', ' if not loop.last }}{% endfor %}]::text[], source) as rank
    from {{ ref('daily_health_by_source') }} as b
),
health as (
    select day
    {%- for metric in health_metrics() %},
        (array_agg({{ metric }} order by rank) filter (where {{ metric }} is not null))[1] as {{ metric }},
        (array_agg(source order by rank) filter (where {{ metric }} is not null))[1] as {{ metric }}_source
    {%- endfor %}
    from ranked
    where rank is not null
    group by day
),
weather as (
    select day, temperature_max_c, temperature_min_c, precipitation_mm
    from {{ ref('stg_openmeteo__weather') }}
    where place = '{{ var("home_place") }}'
),
tracked as (
    select day, round(sum(duration_seconds) / 3600.0, 2) as hours_tracked
    from {{ ref('stg_toggl__time_entries') }}
    where duration_seconds is not null
    group by day
),
days as (
    select day from health
    union
    select day from tracked
)
select
    days.day,
    {% for metric in health_metrics() -%}
    {% if metric in ('steps', 'resting_heart_rate', 'sleep_score', 'body_battery_high', 'body_battery_low') -%}
    round(health.{{ metric }})::bigint as {{ metric }},
    {% else -%}
    round(health.{{ metric }}, 1) as {{ metric }},
    {% endif -%}
    {% endfor -%}
    weather.temperature_max_c,
    weather.temperature_min_c,
    weather.precipitation_mm,
    tracked.hours_tracked,
    {% for metric in health_metrics() -%}
    health.{{ metric }}_source{{ ',' if not loop.last }}
    {% endfor %}
from days
left join health using (day)
left join weather using (day)
left join tracked using (day)
