{#- A `dbt run` with nothing new changes nothing.

    dbt's own view and table materializations build every model again on every
    run: a run with nothing new spent most of its database time creating the
    22 silver views and the mart tables once more. These two take dbt's own
    path only when something changed, and otherwise leave the relation alone.
    What they compare is kept on the relation's comment (`built_marker`):

    - views: the digest of the view's DDL. Anything that changes the DDL (the
      model's SQL, a variable, a bronze table appearing: macros/bronze.sql
      bronze_rows) changes it. A view dropped since (replacing an upstream view
      or table drops it by CASCADE) is not found and is created again.
    - tables (marts): the digest of the model's SQL, the identity (oid) of each
      model it selects from (a parent built again is a new relation: a view
      created again, a table replaced), and the moment before which every
      bronze row was committed when it last read (macros/bronze.sql
      read_through). Rows landed since then in any bronze table the mart reads,
      through any number of models, or erased from one (bronze.erasures),
      rebuild it; the BRIN index on `ingested_at` (sql/001_bronze.sql) makes
      that check cheap.

    `--full-refresh`, hooks, grants and persisted docs take dbt's own path
    every time. Rows erased from bronze (bronze.erase) stay in the incremental
    models (and the marts over them) until `dbt run --full-refresh`. -#}

{%- materialization view, adapter='postgres' -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set marker = {'ddl': local_md5(get_create_view_as_sql(target_relation, sql))} -%}
  {%- if may_skip() and built_marker(target_relation, 'v') == marker -%}
    {%- do log_unchanged(target_relation) -%}
    {{ return({'relations': [target_relation]}) }}
  {%- endif -%}
  {%- set relations = dbt.materialization_view_default() -%}
  {%- do keep_marker(target_relation, marker) -%}
  {{ return(relations) }}
{%- endmaterialization -%}

{%- materialization table, adapter='postgres' -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set state = upstream_state() -%}
  {%- set marker = {'sql': local_md5(sql ~ tojson(config.get('indexes'))), 'parents': state.parents,
                    'read_through': state.read_through} -%}
  {%- set built = built_marker(target_relation, 'r') if may_skip() else none -%}
  {%- if built and built.sql == marker.sql and built.parents == marker.parents
        and not bronze_changed_since(state.bronze, built.read_through, state.erasures) -%}
    {%- do log_unchanged(target_relation) -%}
    {{ return({'relations': [target_relation]}) }}
  {%- endif -%}
  {%- set relations = dbt.materialization_table_default() -%}
  {%- do keep_marker(target_relation, marker) -%}
  {{ return(relations) }}
{%- endmaterialization -%}

{#- dbt's own result line still says "OK created ... [SELECT 1]" for a model left alone
    (that is the marker query's answer): this line, just before it, says what happened. -#}
{% macro log_unchanged(relation) -%}
  {%- do log(relation.schema ~ '.' ~ relation.identifier ~ ' unchanged since its last build: left as it is', info=True) -%}
{%- endmacro %}

{#- Whether this run may leave the model alone when nothing changed. -#}
{% macro may_skip() -%}
  {{- return(not should_full_refresh() and not pre_hooks and not post_hooks
             and not config.get('grants') and not config.persist_relation_docs()) -}}
{%- endmacro %}

{#- The marker the last build left on `relation` (a dict), or none when the relation
    is not there as `relkind` ('v' view, 'r' table) or carries no marker. This is the
    model's `main` statement when it is left alone. -#}
{% macro built_marker(relation, relkind) -%}
  {%- call statement('main', fetch_result=True) -%}
    select obj_description(c.oid, 'pg_class')
    from pg_class as c
    where c.oid = to_regclass({{ dbt.string_literal(relation.render()) }}) and c.relkind = '{{ relkind }}'
  {%- endcall -%}
  {%- set rows = load_result('main')['data'] -%}
  {%- set text = rows[0][0] if rows else none -%}
  {%- if text and text.startswith('dbt built: ') -%}
    {{ return(fromjson(text[11:])) }}
  {%- endif -%}
  {{ return(none) }}
{%- endmacro %}

{% macro keep_marker(relation, marker) -%}
  {%- call statement('keep_marker') -%}
    comment on {{ 'view' if relation.type == 'view' else 'table' }} {{ relation }}
      is {{ dbt.string_literal('dbt built: ' ~ tojson(marker)) }}
  {%- endcall -%}
  {%- do adapter.commit() -%}
{%- endmacro %}

{#- The model's parents as {relation: oid (text), or null when missing}, the bronze
    tables it reads through any number of models ([schema.table] of those that
    exist), the read_through moment now, and whether bronze.erasures exists (it
    does once a loader applied this version's sql/). -#}
{% macro upstream_state() -%}
  {%- set parents = [] -%}
  {%- set sources = [] -%}
  {%- set seen = [] -%}
  {%- set frontier = model.depends_on.nodes | list -%}
  {#- Breadth first, a level per pass; a project's models are far fewer than 50 deep. -#}
  {%- for _ in range(50) if frontier -%}
    {%- set next_level = [] -%}
    {%- for node_id in frontier if node_id not in seen -%}
      {%- do seen.append(node_id) -%}
      {%- if node_id in graph.sources -%}
        {%- set node = graph.sources[node_id] -%}
        {%- do sources.append(adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.identifier)) -%}
      {%- elif node_id in graph.nodes -%}
        {%- set node = graph.nodes[node_id] -%}
        {%- if node_id in model.depends_on.nodes -%}
          {%- do parents.append(adapter.quote(node.schema) ~ '.' ~ adapter.quote(node.alias or node.name)) -%}
        {%- endif -%}
        {%- do next_level.extend(node.depends_on.nodes) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do frontier.clear() -%}
    {%- do frontier.extend(next_level) -%}
  {%- endfor -%}
  {%- call statement('upstream_state', fetch_result=True) -%}
    select
      (select coalesce(json_object_agg(name, to_regclass(name)::oid::text), '{}')::text
       from unnest(array[{% for p in parents %}{{ dbt.string_literal(p) }}{{ ', ' if not loop.last }}{% endfor %}]::text[]) as name),
      (select coalesce(json_agg(name), '[]')::text
       from unnest(array[{% for s in sources %}{{ dbt.string_literal(s) }}{{ ', ' if not loop.last }}{% endfor %}]::text[]) as name
       where to_regclass(name) is not null),
      {{ read_through() }}::text,
      to_regclass('bronze.erasures') is not null
  {%- endcall -%}
  {%- set row = load_result('upstream_state')['data'][0] -%}
  {{ return({'parents': fromjson(row[0]), 'bronze': fromjson(row[1]), 'read_through': row[2],
             'erasures': row[3]}) }}
{%- endmacro %}

{#- Whether any of `tables` holds a row landed at or after `moment`, or had rows
    erased since then (bronze.erasures, when it `exists`). -#}
{% macro bronze_changed_since(tables, moment, erasures) -%}
  {%- if not tables -%}{{ return(false) }}{%- endif -%}
  {%- set since = dbt.string_literal(moment) ~ '::timestamptz' -%}
  {%- call statement('bronze_changed_since', fetch_result=True) -%}
    select {% for t in tables -%}
      exists (select from {{ t }} where ingested_at >= {{ since }})
      {{- ' or ' if not loop.last }}
    {%- endfor %}
    {%- if erasures %}
      or exists (select from bronze.erasures
                 where erased_at >= {{ since }}
                   and to_regclass(format('%I.%I', table_schema, table_name)) in (
                     {%- for t in tables %}{{ dbt.string_literal(t) }}::regclass{{ ', ' if not loop.last }}{% endfor %}))
    {%- endif %}
  {%- endcall -%}
  {{ return(load_result('bronze_changed_since')['data'][0][0]) }}
{%- endmacro %}
