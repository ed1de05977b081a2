-- HubSpot contacts: one row per contact.
{% call bronze_staging('hubspot__contacts') %}
    {{ j_text('id') }} as contact_id,
    coalesce(({{ j_text('properties,createdate') }})::timestamptz, ({{ j_text('createdAt') }})::timestamptz) as created_at,
    {{ j_text('properties,lifecyclestage') }} as lifecycle_stage,
    coalesce({{ j_bool('archived') }}, false) as is_archived
{% endcall %}
