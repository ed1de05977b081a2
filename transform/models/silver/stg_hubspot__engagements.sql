-- HubSpot engagements (calls, emails, meetings, notes, tasks): one row per engagement,
-- `occurred_at` its hs_timestamp (when it happened), else when it was created.
{% set kinds = ['calls', 'emails', 'meetings', 'notes', 'tasks'] %}
{% for kind in kinds %}
{% if not loop.first %}union all{% endif %}
{% call bronze_staging('hubspot__' ~ kind) %}
    '{{ kind[:-1] }}' as engagement_type,
    {{ j_text('id') }} as engagement_id,
    coalesce(({{ j_text('properties,hs_timestamp') }})::timestamptz,
             ({{ j_text('properties,createdate') }})::timestamptz,
             ({{ j_text('createdAt') }})::timestamptz) as occurred_at
{% endcall %}
{% endfor %}
