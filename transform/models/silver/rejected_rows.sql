-- Every invalid bronze row, of every bronze table present: they stay out of silver and
-- are counted here (table, raw_id, reason). Tables are found when the model builds, so
-- a source loaded for the first time is included on the next `dbt run`.
{% set tables = [] %}
{% if execute %}
  {% set found = run_query("select c.table_name from information_schema.columns c "
                           ~ "join information_schema.tables t using (table_schema, table_name) "
                           ~ "where c.table_schema = 'bronze' and t.table_type = 'BASE TABLE' "
                           ~ "and c.column_name = 'validation_status' order by 1") %}
  {% set tables = found.columns[0].values() %}
{% endif %}
{% for table in tables %}
select '{{ table }}'::text as table_name, raw_id, raw_hash, error_message as reason,
       source_timestamp, ingested_at
from bronze.{{ adapter.quote(table) }}
where validation_status = 'invalid'
union all
{% endfor %}
-- The columns' names and types when no bronze table exists yet (and the union's last branch).
select null::text as table_name, null::text as raw_id, null::text as raw_hash, null::text as reason,
       null::timestamptz as source_timestamp, null::timestamptz as ingested_at
where false
