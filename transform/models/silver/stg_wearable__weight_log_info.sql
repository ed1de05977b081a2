-- Fitabase weightLogInfo: one row per log entry (raw_id "<Id>|<LogId>"); the day is the
-- M/D/YYYY date the file writes.
{% call bronze_staging('wearable__weight_log_info') %}
    {{ j_text('Id') }} as user_id,
    {{ j_text('LogId') }} as log_id,
    {{ j_us_date('Date') }} as day,
    {{ j_num('WeightKg') }} as weight_kg,
    {{ j_num('BMI') }} as bmi,
    {{ j_num('Fat') }} as fat_percent,
    {{ j_bool('IsManualReport') }} as is_manual_report
{% endcall %}
