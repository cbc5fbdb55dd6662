{#- Marts keyed by report_id that rebuild only the reports a load changed.

    With the var `only_changed_reports` false (the default, and plain dbt CLI use) these models are
    rebuilt whole on every build, like any table. With it true, an existing table keeps its rows
    and only the reports of int_reports_to_rebuild are deleted and built again (dbt's
    --full-refresh still rebuilds it whole). Whoever sets the var vouches that
    `loader.report_changes` lists every report added, removed or updated since the tables were
    built, and that nothing else changed: not the extractor, nor the landing code, nor the dbt
    project (models, seeds, vars) — any of those changes every report, so it needs a full build.
    orchestration/defs/assets/dbt.py decides this; the same tables come out either way
    (tests/dbt/test_incremental.py). -#}

{% macro only_changed_reports() -%}
    {{- return(var('only_changed_reports', false) in (true, 'true', 'True', 1, '1')) -}}
{%- endmacro %}

{#- config(**report_incremental_config()): the config of a mart keyed by report_id. full_refresh
    true rebuilds it whole on every build; none leaves it to dbt (whole only with --full-refresh,
    or when the table does not exist). -#}
{% macro report_incremental_config() -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'full_refresh': none if only_changed_reports() else true,
        'pre_hook': "{{ delete_reports_to_rebuild() }}",
    }) -}}
{%- endmacro %}

{#- A condition on `column` (a report_id): true for every row in a full build, only for the
    reports to rebuild in an incremental one. -#}
{% macro in_reports_to_rebuild(column) -%}
    {%- set rebuild = ref('int_reports_to_rebuild') -%}
    {%- if is_incremental() -%}
        {{ column }} in (select report_id from {{ rebuild }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental build: the rows of the reports to rebuild leave the table (then the
    model's rows of those reports are appended). -#}
{% macro delete_reports_to_rebuild() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_reports_to_rebuild('report_id') }}
    {%- endif -%}
{%- endmacro %}
