{#- Column lists that several staging models share, because their sources write the
    same payload shape. -#}

{#- Garmin's daily summary (UDS): the API's and the data export's payloads share these
    fields; `day` is Garmin's own calendarDate. -#}
{% macro garmin_daily_totals() -%}
    {{ j_date('calendarDate') }} as day,
    {{ j_int('totalSteps') }} as steps,
    {{ j_num('totalDistanceMeters') }} as distance_m,
    {{ j_int('moderateIntensityMinutes') }} as moderate_intensity_minutes,
    {{ j_int('vigorousIntensityMinutes') }} as vigorous_intensity_minutes
{%- endmacro %}

{#- A Fitabase daily file's participant and day. The tap's raw_id is "<Id>|<ISO date>",
    the date normalised from the file's own M/D/YYYY (or a re-saved file's day-first
    order, decided per file), so the day is read from there. -#}
{% macro fitabase_participant_day(day_column) -%}
    {{ j_text('Id') }} as user_id,
    split_part(raw_id, '|', 2)::date as {{ day_column }}
{%- endmacro %}
