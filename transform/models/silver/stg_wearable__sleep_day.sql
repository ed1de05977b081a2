-- Fitabase sleepDay: one row per participant and SleepDay.
{% call bronze_staging('wearable__sleep_day') %}
    {{ fitabase_participant_day('sleep_day') }},
    {{ j_int('TotalSleepRecords') }} as sleep_records,
    {{ j_int('TotalMinutesAsleep') }} as minutes_asleep,
    {{ j_int('TotalTimeInBed') }} as minutes_in_bed
{% endcall %}
