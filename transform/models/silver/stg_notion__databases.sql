-- Notion databases: one row per database with its plain-text title.
with latest as ({{ latest_valid('notion__databases') }})
select
    raw_id,
    source_timestamp,
    {{ j_text('id') }} as database_id,
    (select string_agg(t ->> 'plain_text', '') from jsonb_array_elements(
        case when jsonb_typeof(raw_data -> 'title') = 'array' then raw_data -> 'title' else '[]'::jsonb end) as t) as title
from latest
