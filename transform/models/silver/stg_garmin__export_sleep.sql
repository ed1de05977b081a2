-- Garmin data export sleep: one night per calendarDate (times are GMT text, no zone written).
{% call bronze_staging('garmin__export_sleep') %}
    {{ j_date('calendarDate') }} as day,
    ({{ j_text('sleepStartTimestampGMT') }})::timestamp at time zone 'UTC' as sleep_start_at,
    ({{ j_text('sleepEndTimestampGMT') }})::timestamp at time zone 'UTC' as sleep_end_at,
    {{ j_int('deepSleepSeconds') }} + {{ j_int('lightSleepSeconds') }} + {{ j_int('remSleepSeconds') }} as sleep_seconds,
    {{ j_int('deepSleepSeconds') }} as deep_sleep_seconds,
    {{ j_int('lightSleepSeconds') }} as light_sleep_seconds,
    {{ j_int('remSleepSeconds') }} as rem_sleep_seconds,
    {{ j_int('awakeSleepSeconds') }} as awake_seconds,
    {{ j_int('sleepScores,overallScore') }} as sleep_score
{% endcall %}
