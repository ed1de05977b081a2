-- Garmin data export (UDSFile): one daily summary per calendarDate.
with latest as ({{ latest_valid('garmin__export_daily_summary') }})
select
    raw_id,
    source_timestamp,
    {{ j_date('calendarDate') }} as day,
    {{ j_int('totalSteps') }} as steps,
    {{ j_num('totalDistanceMeters') }} as distance_m,
    {{ j_int('moderateIntensityMinutes') }} as moderate_intensity_minutes,
    {{ j_int('vigorousIntensityMinutes') }} as vigorous_intensity_minutes,
    coalesce({{ j_int('restingHeartRate') }}, {{ j_int('currentDayRestingHeartRate') }}) as resting_heart_rate,
    (select (a ->> 'averageStressLevel')::numeric from jsonb_array_elements(
        case when jsonb_typeof(raw_data #> '{allDayStress,aggregatorList}') = 'array'
             then raw_data #> '{allDayStress,aggregatorList}' else '[]'::jsonb end) as a
     where a ->> 'type' = 'TOTAL' and jsonb_typeof(a -> 'averageStressLevel') = 'number' limit 1) as average_stress_level,
    (select (s ->> 'statsValue')::numeric from jsonb_array_elements(
        case when jsonb_typeof(raw_data #> '{bodyBattery,bodyBatteryStatList}') = 'array'
             then raw_data #> '{bodyBattery,bodyBatteryStatList}' else '[]'::jsonb end) as s
     where s ->> 'bodyBatteryStatType' = 'HIGHEST' and jsonb_typeof(s -> 'statsValue') = 'number' limit 1) as body_battery_highest,
    (select (s ->> 'statsValue')::numeric from jsonb_array_elements(
        case when jsonb_typeof(raw_data #> '{bodyBattery,bodyBatteryStatList}') = 'array'
             then raw_data #> '{bodyBattery,bodyBatteryStatList}' else '[]'::jsonb end) as s
     where s ->> 'bodyBatteryStatType' = 'LOWEST' and jsonb_typeof(s -> 'statsValue') = 'number' limit 1) as body_battery_lowest,
    {{ j_num('totalKilocalories') }} as total_kilocalories
from latest
