{#- Corrections by people (seed `corrections`) on top of the extracted values.

    A correction names a field the way extract.record and `uncertain_fields` do: a form field
    (`total_score`), a funding line's (`funding[0].executed`, 0-based line) or an indicator's
    (`indicators[3].score`, 0-based). correction_tables() maps each path prefix to its staging model
    and row key; every staged column is correctable except keys, provenance and the extraction's
    own bookkeeping (not_correctable()). -#}

{% macro correction_tables() %}
    {{ return({
        'reports': {'model': 'stg_extract__reports', 'prefix': none, 'row': none},
        'funding_lines': {'model': 'stg_extract__funding_lines', 'prefix': 'funding', 'row': 'line_no'},
        'indicators': {'model': 'stg_extract__indicators', 'prefix': 'indicators', 'row': 'indicator_no'},
    }) }}
{% endmacro %}

{% macro not_correctable() %}
    {{ return([
        'report_id', 'sha256', 'form_index', 'source_file', 'source_files', 'source_kind', 'pages',
        'n_indicators', 'uncertain_fields', 'checks_failed', 'failed_check_names',
        'funding_line_id', 'line_no', 'indicator_id', 'indicator_no', 'page',
    ]) }}
{% endmacro %}

{#- The correctable columns (name, dtype) of a staging model, read from the built view, so the
    staging contract stays the one declaration of the types. Empty at parse time. -#}
{% macro correctable_columns(model) %}
    {% set relation = ref(model) %}
    {% if not execute %}{{ return([]) }}{% endif %}
    {% set columns = adapter.get_columns_in_relation(relation) %}
    {{ return(columns | rejectattr('name', 'in', not_correctable()) | list) }}
{% endmacro %}

{#- The staging model `table` with the applied corrections on top, and `corrected_fields`: the
    field paths of this row a person corrected (empty when none). -#}
{% macro apply_corrections(table) %}
{%- set spec = correction_tables()[table] -%}
{%- set staged = ref(spec.model) -%}
{%- set fixable = correctable_columns(spec.model) -%}
{%- set fixable_names = fixable | map(attribute='name') | list -%}
{%- set all_columns = adapter.get_columns_in_relation(staged) if execute else [] -%}
with staged as (
    select * from {{ staged }}
),

applied as (
    select * from {{ ref('int_corrections_resolved') }}
    where status = 'applied' and table_name = '{{ table }}'
),

by_row as (
    select
        report_id,
        row_no,
        {%- for column in fixable %}
        bool_or(column_name = '{{ column.name }}') as {{ column.name }}__is_corrected,
        max(corrected_value) filter (where column_name = '{{ column.name }}') as {{ column.name }}__corrected,
        {%- endfor %}
        list(field_path order by field_path) as corrected_fields
    from applied
    group by report_id, row_no
)

select
    {%- for column in all_columns %}
    {%- if column.name in fixable_names %}
    case when c.{{ column.name }}__is_corrected
        then cast(c.{{ column.name }}__corrected as {{ column.dtype }})
        else s.{{ column.name }}
    end as {{ column.name }},
    {%- else %}
    s.{{ column.name }},
    {%- endif %}
    {%- endfor %}
    coalesce(c.corrected_fields, []::varchar[]) as corrected_fields
from staged as s
left join by_row as c
    on c.report_id = s.report_id
    and c.row_no = {{ 's.' ~ spec.row if spec.row else '0' }}
{% endmacro %}
