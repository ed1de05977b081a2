-- Notion pages of the shared databases: one row per page, properties kept as JSON
-- (their names are the user's own; mart.habits_daily reads the ones the vars name).
{% call bronze_staging('notion__pages') %}
    {{ j_text('id') }} as page_id,
    {{ j_text('parent,database_id') }} as database_id,
    ({{ j_text('created_time') }})::timestamptz as created_at,
    ({{ j_text('last_edited_time') }})::timestamptz as last_edited_at,
    coalesce({{ j_bool('archived') }}, false) or coalesce({{ j_bool('in_trash') }}, false) as is_archived,
    raw_data -> 'properties' as properties
{% endcall %}
