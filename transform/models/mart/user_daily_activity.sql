-- The research grain of Fitabase exports: one row per participant and day (the file's own
-- ActivityDate), with that night's sleep where the sleepDay file has it.
select
    a.user_id,
    a.activity_date,
    a.total_steps,
    a.total_distance_km,
    a.very_active_minutes,
    a.fairly_active_minutes,
    a.lightly_active_minutes,
    a.sedentary_minutes,
    a.very_active_minutes + a.fairly_active_minutes + a.lightly_active_minutes as active_minutes,
    a.calories,
    s.minutes_asleep,
    s.minutes_in_bed,
    a.total_steps > 0 as is_active_day,
    a.raw_id
from {{ ref('stg_wearable__daily_activity') }} as a
left join {{ ref('stg_wearable__sleep_day') }} as s
    on s.user_id = a.user_id and s.sleep_day = a.activity_date
