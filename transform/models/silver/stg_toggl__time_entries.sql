-- Toggl Track time entries: one row per entry, except deleted ones. A running entry has a
-- negative duration and no stop: its duration stays NULL until it stops. `day` is the
-- start's calendar day in the user's timezone (var `timezone`).
{% call bronze_staging('toggl__time_entries', where=j_text('server_deleted_at') ~ ' is null') %}
    {{ j_int('id') }} as time_entry_id,
    {{ j_int('workspace_id') }} as workspace_id,
    coalesce({{ j_int('project_id') }}, {{ j_int('pid') }}) as project_id,
    {{ j_text('description') }} as description,
    ({{ j_text('start') }})::timestamptz as start_at,
    ({{ j_text('stop') }})::timestamptz as stop_at,
    case when {{ j_int('duration') }} >= 0 then {{ j_int('duration') }} end as duration_seconds,
    {{ j_bool('billable') }} as billable,
    {{ local_day("(" ~ j_text('start') ~ ")::timestamptz") }} as day
{% endcall %}
