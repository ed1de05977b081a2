-- Every source's daily health values side by side, one row per (source, day): the input
-- of mart.daily_health, which picks per metric the first source in `health_precedence`.
-- Days are each source's own calendar day (Garmin calendarDate, Fitabase ActivityDate,
-- Apple Health's written local date, the manual log's date).
{% set apple = ref('stg_apple_health__records') %}
{% set steps_t = "'HKQuantityTypeIdentifierStepCount'" %}

{{ health_rows('garmin', 'day', {
    'steps': 'd.steps', 'distance_m': 'd.distance_m',
    'active_minutes': 'd.moderate_intensity_minutes + d.vigorous_intensity_minutes',
    'resting_heart_rate': 'd.resting_heart_rate', 'average_stress': 'd.average_stress_level',
    'sleep_minutes': 's.sleep_seconds / 60.0', 'deep_sleep_minutes': 's.deep_sleep_seconds / 60.0',
    'rem_sleep_minutes': 's.rem_sleep_seconds / 60.0', 'sleep_score': 's.sleep_score',
    'hrv_ms': 'h.last_night_average_ms',
    'body_battery_high': 'b.highest', 'body_battery_low': 'b.lowest'},
    ref('stg_garmin__daily_summary') ~ ' as d full join ' ~ ref('stg_garmin__sleep')
      ~ ' as s using (day) full join ' ~ ref('stg_garmin__hrv') ~ ' as h using (day) full join '
      ~ ref('stg_garmin__body_battery') ~ ' as b using (day)') }}

union all

{{ health_rows('garmin_export', 'day', {
    'steps': 'd.steps', 'distance_m': 'd.distance_m',
    'active_minutes': 'd.moderate_intensity_minutes + d.vigorous_intensity_minutes',
    'resting_heart_rate': 'd.resting_heart_rate', 'average_stress': 'd.average_stress_level',
    'body_battery_high': 'd.body_battery_highest', 'body_battery_low': 'd.body_battery_lowest',
    'sleep_minutes': 's.sleep_seconds / 60.0', 'deep_sleep_minutes': 's.deep_sleep_seconds / 60.0',
    'rem_sleep_minutes': 's.rem_sleep_seconds / 60.0', 'sleep_score': 's.sleep_score'},
    ref('stg_garmin__export_daily_summary') ~ ' as d full join '
      ~ ref('stg_garmin__export_sleep') ~ ' as s using (day)') }}

union all

-- Apple Health: sums and averages of the day's records; sleep is the asleep stages of the
-- night that ends on the day (InBed and Awake are not sleep).
select 'apple_health', coalesce(r.day, a.day),
    r.steps, r.distance_m, a.exercise_minutes, r.resting_heart_rate, r.sleep_minutes,
    r.deep_sleep_minutes, r.rem_sleep_minutes, null, r.hrv_ms, null, null, null,
    r.weight_kg, r.water_ml
from (
    select coalesce(q.day, z.day) as day, q.steps, q.distance_m, q.resting_heart_rate,
           q.hrv_ms, q.weight_kg, q.water_ml, z.sleep_minutes, z.deep_sleep_minutes, z.rem_sleep_minutes
    from (
        select day,
            sum(value) filter (where record_type = {{ steps_t }}) as steps,
            sum(case unit when 'km' then value * 1000 when 'm' then value when 'mi' then value * 1609.344 end)
                filter (where record_type = 'HKQuantityTypeIdentifierDistanceWalkingRunning') as distance_m,
            avg(value) filter (where record_type = 'HKQuantityTypeIdentifierRestingHeartRate') as resting_heart_rate,
            avg(value) filter (where record_type = 'HKQuantityTypeIdentifierHeartRateVariabilitySDNN') as hrv_ms,
            (array_agg(case unit when 'kg' then value when 'lb' then value * 0.45359237 end order by start_at desc)
                filter (where record_type = 'HKQuantityTypeIdentifierBodyMass'))[1] as weight_kg,
            sum(case unit when 'mL' then value when 'L' then value * 1000 end)
                filter (where record_type = 'HKQuantityTypeIdentifierDietaryWater') as water_ml
        from {{ apple }}
        where record_type <> 'HKCategoryTypeIdentifierSleepAnalysis'
        group by day
    ) as q
    full join (
        select end_day as day,
            sum(extract(epoch from end_at - start_at) / 60.0)
                filter (where value_text like 'HKCategoryValueSleepAnalysisAsleep%') as sleep_minutes,
            sum(extract(epoch from end_at - start_at) / 60.0)
                filter (where value_text = 'HKCategoryValueSleepAnalysisAsleepDeep') as deep_sleep_minutes,
            sum(extract(epoch from end_at - start_at) / 60.0)
                filter (where value_text = 'HKCategoryValueSleepAnalysisAsleepREM') as rem_sleep_minutes
        from {{ apple }}
        where record_type = 'HKCategoryTypeIdentifierSleepAnalysis'
        group by end_day
    ) as z using (day)
) as r
full join {{ ref('stg_apple_health__activity_summaries') }} as a using (day)
where coalesce(r.day, a.day) is not null

union all

-- Fitabase files hold many participants: the one named by var `fitabase_user_id`, or,
-- when that is not set, the only participant if there is just one.
{% set person %}
  user_id = coalesce({{ "'" ~ var('fitabase_user_id') ~ "'" if var('fitabase_user_id') else 'null' }},
                     (select min(user_id) from {{ ref('stg_wearable__daily_activity') }}
                      having count(distinct user_id) = 1))
{% endset %}
select 'fitabase', day,
    max(steps), max(distance_m), max(active_minutes), null, max(sleep_minutes), null, null, null,
    null, null, null, null, max(weight_kg), null
from (
    select activity_date as day, total_steps as steps, total_distance_km * 1000 as distance_m,
           very_active_minutes + fairly_active_minutes as active_minutes,
           null::numeric as sleep_minutes, null::numeric as weight_kg
    from {{ ref('stg_wearable__daily_activity') }} where {{ person }}
    union all
    select sleep_day, null, null, null, minutes_asleep, null
    from {{ ref('stg_wearable__sleep_day') }} where {{ person }}
    union all
    select day, null, null, null, null, weight_kg
    from {{ ref('stg_wearable__weight_log_info') }} where {{ person }}
) as f
group by day

union all

select 'manual', day, null, null, null, null, null, null, null, null, null, null, null, null,
    max(weight_kg), sum(water_ml)
from (
    select day, weight_kg, null::numeric as water_ml from {{ ref('stg_manual__body_measurements') }}
    union all
    select day, null, amount_ml from {{ ref('stg_manual__water_intake') }}
) as m
where day is not null
group by day

union all

{{ health_rows('hidrate', 'day', {'water_ml': 'total_ml'}, ref('stg_hidrate__days')) }}
