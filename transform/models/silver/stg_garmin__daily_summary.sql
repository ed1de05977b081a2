-- Garmin Connect daily summary: one row per calendar day (Garmin's own calendarDate).
{% call bronze_staging('garmin__daily_summary') %}
    {{ garmin_daily_totals() }},
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
{% endcall %}
