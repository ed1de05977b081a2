{#- Reading bronze. Every bronze table has the same envelope (docs/DESIGN: raw_id,
    raw_hash, raw_data, source_timestamp, ingested_at, validation_status, ...),
    so a staging model only says how to type its source's payload. -#}

{#- The bronze table as a relation, or, when the table does not exist (a source
    this user never loaded), an empty row set with the envelope's columns and
    types: models of absent sources then build empty and `dbt run` succeeds
    on a database that holds only some sources. -#}
{% macro bronze_rows(table) -%}
  {%- set src = source('bronze', table) -%}
  {%- if execute and adapter.get_relation(database=src.database, schema=src.schema,
                                          identifier=src.identifier) is not none -%}
    {{ src }}
  {%- else -%}
    (select null::text as raw_id, null::text as raw_hash, null::text as source,
            null::jsonb as raw_data, null::timestamptz as source_timestamp,
            null::timestamptz as ingested_at, null::text as validation_status,
            null::text as error_message, null::jsonb as metadata
     where false)
  {%- endif -%}
{%- endmacro %}

{#- True when the bronze table exists (at run time; false while dbt parses). -#}
{% macro bronze_exists(table) -%}
  {%- set src = source('bronze', table) -%}
  {{- return(execute and adapter.get_relation(database=src.database, schema=src.schema,
                                               identifier=src.identifier) is not none) -}}
{%- endmacro %}

{#- The latest version of each raw_id among its valid rows (`warning` rows are
    valid payloads with a remark). A changed payload lands as a new row, so the
    newest landing wins: a rescored night replaces the first score. Rows landed
    in one transaction share ingested_at; raw_hash then breaks the tie, so
    a rebuild always picks the same row. `where` narrows bronze first (an
    incremental model passes its cut-off). -#}
{% macro latest_valid(table, where='true') -%}
    select distinct on (raw_id) raw_id, raw_hash, raw_data, source_timestamp, ingested_at
    from {{ bronze_rows(table) }} as bronze
    where validation_status in ('valid', 'warning') and ({{ where }})
    order by raw_id, ingested_at desc, raw_hash desc
{%- endmacro %}

{#- A staging model over one bronze table: the latest valid version of each raw_id
    (latest_valid: none when the table is absent, so the model builds empty with
    its columns' types), raw_id and source_timestamp first for lineage, then the
    model's own typed columns, written in the call block:
        {% call bronze_staging('garmin__hrv') %} {{ j_int('x') }} as x {% endcall %}
    `where` filters the latest versions (a deleted record's last version hides it).
    A subquery, not a CTE, so models can union several (stg_hubspot__engagements). -#}
{% macro bronze_staging(table, where=none) -%}
    select
        raw_id,
        source_timestamp,
        {{- caller() }}
    from ({{ latest_valid(table) }}) as latest
    {%- if where %}
    where {{ where }}
    {%- endif %}
{%- endmacro %}

{#- Typed readers of a payload field, NULL for a missing key, JSON null or
    empty text (CSV exports write empty cells), so one odd value never fails a build. -#}
{% macro j_text(path) -%}
  nullif(btrim(raw_data #>> '{ {{- path -}} }'), '')
{%- endmacro %}

{% macro j_num(path) -%}
  case when {{ j_text(path) }} ~ '^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
       then ({{ j_text(path) }})::numeric end
{%- endmacro %}

{% macro j_int(path) -%}
  round({{ j_num(path) }})::bigint
{%- endmacro %}

{% macro j_bool(path) -%}
  case lower({{ j_text(path) }}) when 'true' then true when 'false' then false end
{%- endmacro %}

{#- The JSON array at a payload path, or an empty one when it is missing or not an
    array, for jsonb_array_elements. -#}
{% macro j_array(path) -%}
  case when jsonb_typeof(raw_data #> '{ {{- path -}} }') = 'array'
       then raw_data #> '{ {{- path -}} }' else '[]'::jsonb end
{%- endmacro %}

{#- The number `field` of the first element of the array at `path` whose `key` is
    `value` (Garmin's stat lists: [{"type": "TOTAL", "averageStressLevel": 31}, ...]). -#}
{% macro j_array_find(path, key, value, field) -%}
  (select (e ->> '{{ field }}')::numeric from jsonb_array_elements({{ j_array(path) }}) as e
   where e ->> '{{ key }}' = '{{ value }}' and jsonb_typeof(e -> '{{ field }}') = 'number' limit 1)
{%- endmacro %}

{#- An ISO date (YYYY-MM-DD...) as date. -#}
{% macro j_date(path) -%}
  case when {{ j_text(path) }} ~ '^\d{4}-\d{2}-\d{2}' then left({{ j_text(path) }}, 10)::date end
{%- endmacro %}

{#- Epoch milliseconds as timestamptz. -#}
{% macro j_epoch_ms(path) -%}
  to_timestamp({{ j_num(path) }} / 1000.0)
{%- endmacro %}

{#- Fitbit's US date (M/D/YYYY, with or without a time): the calendar date as written. -#}
{% macro j_us_date(path) -%}
  case when {{ j_text(path) }} ~ '^\d{1,2}/\d{1,2}/\d{4}'
       then to_date(substring({{ j_text(path) }} from '^\d{1,2}/\d{1,2}/\d{4}'), 'MM/DD/YYYY') end
{%- endmacro %}

{#- The calendar day of an instant in the user's timezone (var `timezone`). -#}
{% macro local_day(ts) -%}
  ({{ ts }} at time zone '{{ var("timezone") }}')::date
{%- endmacro %}

{#- An incremental model's cut-off on bronze. Each build stores in `read_through` the
    moment before which every bronze row was already committed when it read: the start
    of the oldest transaction then open in this database (a loader's rows carry its
    transaction's start as ingested_at and may commit later), less a margin (var
    `incremental_margin_minutes`; sessions of other roles show no start without
    pg_read_all_stats). The next build reads only rows landed since, so a run with
    nothing new reads next to nothing; rows read twice are replaced by equal values. -#}
{% macro incremental_cutoff() -%}
  {#- A table built by an older version of the model (no read_through) reads everything,
      and dbt's on_schema_change check then says plainly to run with --full-refresh. -#}
  {%- if is_incremental() and 'read_through' in (adapter.get_columns_in_relation(this)
                                                  | map(attribute='name') | list) -%}
    ingested_at >= (select coalesce(max(read_through), '-infinity'::timestamptz) from {{ this }})
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}

{% macro read_through() -%}
  (select least(now(), coalesce(min(xact_start), now()))
          - interval '{{ var("incremental_margin_minutes") }} minutes'
   from pg_stat_activity where datname = current_database() and xact_start is not null)
{%- endmacro %}
{#- Apple Health's "2018-01-02 09:10:08 +0100" (time with its own offset) as timestamptz. -#}
{% macro apple_time(path) -%}
  case when {{ j_text(path) }} ~ '^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [-+]\d{4}$'
       then ({{ j_text(path) }})::timestamptz end
{%- endmacro %}
