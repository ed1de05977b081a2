-- Garmin Connect sleep: one row per night, keyed by the calendarDate Garmin files it under
-- (the day you woke up). A rescored night lands as a new bronze version and replaces this one.
{% call bronze_staging('garmin__sleep') %}
    {{ j_date('dailySleepDTO,calendarDate') }} as day,
    {{ j_epoch_ms('dailySleepDTO,sleepStartTimestampGMT') }} as sleep_start_at,
    {{ j_epoch_ms('dailySleepDTO,sleepEndTimestampGMT') }} as sleep_end_at,
    {{ j_int('dailySleepDTO,sleepTimeSeconds') }} as sleep_seconds,
    {{ j_int('dailySleepDTO,deepSleepSeconds') }} as deep_sleep_seconds,
    {{ j_int('dailySleepDTO,lightSleepSeconds') }} as light_sleep_seconds,
    {{ j_int('dailySleepDTO,remSleepSeconds') }} as rem_sleep_seconds,
    {{ j_int('dailySleepDTO,awakeSleepSeconds') }} as awake_seconds,
    {{ j_int('dailySleepDTO,sleepScores,overall,value') }} as sleep_score,
    {{ j_int('restingHeartRate') }} as resting_heart_rate,
    {{ j_int('avgOvernightHrv') }} as average_overnight_hrv
{% endcall %}
