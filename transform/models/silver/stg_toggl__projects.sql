-- Toggl Track projects: one row per project.
{% call bronze_staging('toggl__projects') %}
    {{ j_int('id') }} as project_id,
    {{ j_text('name') }} as project_name,
    {{ j_int('client_id') }} as client_id,
    {{ j_bool('active') }} as active
{% endcall %}
