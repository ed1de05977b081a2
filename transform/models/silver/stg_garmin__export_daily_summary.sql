-- Garmin data export (UDSFile): one daily summary per calendarDate. Stress and Body
-- Battery sit in stat lists here, not in fields of their own as in the API's payload.
{% call bronze_staging('garmin__export_daily_summary') %}
    {{ garmin_daily_totals() }},
    coalesce({{ j_int('restingHeartRate') }}, {{ j_int('currentDayRestingHeartRate') }}) as resting_heart_rate,
    {{ j_array_find('allDayStress,aggregatorList', 'type', 'TOTAL', 'averageStressLevel') }} as average_stress_level,
    {{ j_array_find('bodyBattery,bodyBatteryStatList', 'bodyBatteryStatType', 'HIGHEST', 'statsValue') }} as body_battery_highest,
    {{ j_array_find('bodyBattery,bodyBatteryStatList', 'bodyBatteryStatType', 'LOWEST', 'statsValue') }} as body_battery_lowest,
    {{ j_num('totalKilocalories') }} as total_kilocalories
{% endcall %}
