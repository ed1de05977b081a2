-- Notion databases: one row per database with its plain-text title.
{% call bronze_staging('notion__databases') %}
    {{ j_text('id') }} as database_id,
    (select string_agg(t ->> 'plain_text', '') from jsonb_array_elements({{ j_array('title') }}) as t) as title
{% endcall %}
