-- Garmin Connect heart rate variability: one summary per night (calendarDate of the morning).
{% call bronze_staging('garmin__hrv') %}
    {{ j_date('hrvSummary,calendarDate') }} as day,
    {{ j_int('hrvSummary,lastNightAvg') }} as last_night_average_ms,
    {{ j_int('hrvSummary,lastNight5MinHigh') }} as last_night_5min_high_ms,
    {{ j_int('hrvSummary,weeklyAvg') }} as weekly_average_ms,
    {{ j_text('hrvSummary,status') }} as status
{% endcall %}
