-- Apple Health <ActivitySummary>: one row per day (dateComponents, the phone's calendar day).
{% call bronze_staging('apple_health__activity_summaries') %}
    {{ j_date('dateComponents') }} as day,
    {{ j_num('appleExerciseTime') }} as exercise_minutes,
    {{ j_num('appleStandHours') }} as stand_hours,
    {{ j_num('activeEnergyBurned') }} as active_energy_burned,
    {{ j_text('activeEnergyBurnedUnit') }} as active_energy_unit
{% endcall %}
