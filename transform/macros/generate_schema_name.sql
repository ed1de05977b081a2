{#- Models land in the schema they name (`silver`, `mart`), not `<target>_<name>`:
    the layers are fixed names other tools and docs/using-your-data.md query. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
