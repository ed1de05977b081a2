-- HubSpot contacts: one row per contact.
with latest as ({{ latest_valid('hubspot__contacts') }})
select
    raw_id,
    source_timestamp,
    {{ j_text('id') }} as contact_id,
    coalesce(({{ j_text('properties,createdate') }})::timestamptz, ({{ j_text('createdAt') }})::timestamptz) as created_at,
    {{ j_text('properties,lifecyclestage') }} as lifecycle_stage,
    coalesce({{ j_bool('archived') }}, false) as is_archived
from latest
