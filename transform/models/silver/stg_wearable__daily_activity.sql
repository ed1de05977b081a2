-- Fitabase dailyActivity: one row per participant and ActivityDate. The tap's raw_id is
-- "<Id>|<ISO date>", the date normalised from the file's own M/D/YYYY (or a re-saved
-- file's day-first order, decided per file), so the day is read from there.
with latest as ({{ latest_valid('wearable__daily_activity') }})
select
    raw_id,
    source_timestamp,
    {{ j_text('Id') }} as user_id,
    split_part(raw_id, '|', 2)::date as activity_date,
    {{ j_int('TotalSteps') }} as total_steps,
    {{ j_num('TotalDistance') }} as total_distance_km,
    {{ j_num('TrackerDistance') }} as tracker_distance_km,
    {{ j_int('VeryActiveMinutes') }} as very_active_minutes,
    {{ j_int('FairlyActiveMinutes') }} as fairly_active_minutes,
    {{ j_int('LightlyActiveMinutes') }} as lightly_active_minutes,
    {{ j_int('SedentaryMinutes') }} as sedentary_minutes,
    {{ j_int('Calories') }} as calories
from latest
