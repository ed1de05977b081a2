-- Garmin Connect daily summary: one row per calendar day (Garmin's own calendarDate).
with latest as ({{ latest_valid('garmin__daily_summary') }})
select
    raw_id,
    source_timestamp,
    {{ j_date('calendarDate') }} as day,
    {{ j_int('totalSteps') }} as steps,
    {{ j_num('totalDistanceMeters') }} as distance_m,
    {{ j_int('moderateIntensityMinutes') }} as moderate_intensity_minutes,
    {{ j_int('vigorousIntensityMinutes') }} as vigorous_intensity_minutes,
    {{ j_int('restingHeartRate') }} as resting_heart_rate,
    {{ j_int('minHeartRate') }} as min_heart_rate,
    {{ j_int('maxHeartRate') }} as max_heart_rate,
    {{ j_int('averageStressLevel') }} as average_stress_level,
    {{ j_int('maxStressLevel') }} as max_stress_level,
    {{ j_num('totalKilocalories') }} as total_kilocalories,
    {{ j_num('activeKilocalories') }} as active_kilocalories,
    {{ j_int('bodyBatteryChargedValue') }} as body_battery_charged,
    {{ j_int('bodyBatteryDrainedValue') }} as body_battery_drained,
    {{ j_bool('includesWellnessData') }} as includes_wellness_data
from latest
