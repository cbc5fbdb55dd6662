{#- The rows of `model` that belong to the canonical copy of their printed form (the copy
    int_reports_deduplicated keeps): what the marts count, each form once. -#}
{% macro of_canonical_copies(model) -%}
    select rows.*
    from {{ ref(model) }} as rows
    inner join {{ ref('int_reports_deduplicated') }} as canonical on canonical.report_id = rows.report_id
{%- endmacro %}
