-- Apple Health <ActivitySummary>: one row per day (dateComponents, the phone's calendar day).
with latest as ({{ latest_valid('apple_health__activity_summaries') }})
select
    raw_id,
    source_timestamp,
    {{ j_date('dateComponents') }} as day,
    {{ j_num('appleExerciseTime') }} as exercise_minutes,
    {{ j_num('appleStandHours') }} as stand_hours,
    {{ j_num('activeEnergyBurned') }} as active_energy_burned,
    {{ j_text('activeEnergyBurnedUnit') }} as active_energy_unit
from latest
