-- Toggl Track projects: one row per project.
with latest as ({{ latest_valid('toggl__projects') }})
select
    raw_id,
    source_timestamp,
    {{ j_int('id') }} as project_id,
    {{ j_text('name') }} as project_name,
    {{ j_int('client_id') }} as client_id,
    {{ j_bool('active') }} as active
from latest
