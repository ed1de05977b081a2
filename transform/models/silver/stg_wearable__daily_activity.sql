-- Fitabase dailyActivity: one row per participant and ActivityDate.
{% call bronze_staging('wearable__daily_activity') %}
    {{ fitabase_participant_day('activity_date') }},
    {{ j_int('TotalSteps') }} as total_steps,
    {{ j_num('TotalDistance') }} as total_distance_km,
    {{ j_num('TrackerDistance') }} as tracker_distance_km,
    {{ j_int('VeryActiveMinutes') }} as very_active_minutes,
    {{ j_int('FairlyActiveMinutes') }} as fairly_active_minutes,
    {{ j_int('LightlyActiveMinutes') }} as lightly_active_minutes,
    {{ j_int('SedentaryMinutes') }} as sedentary_minutes,
    {{ j_int('Calories') }} as calories
{% endcall %}
