{#
  Custom schemas are used as given: a model configured with `+schema: marts` lands in schema
  `marts`, not in dbt's default `<target schema>_marts`. Models without a custom schema go to the
  target schema (`main`).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
