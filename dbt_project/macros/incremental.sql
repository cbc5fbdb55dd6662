{#- Marts keyed by report_id (and int_reports_deduplicated, which they all read) that rebuild
    only the reports a load changed.

    With the var `only_changed_reports` false (the default, and plain dbt CLI use) these models are
    rebuilt whole on every build, like any table. A load passes it true when it landed the raw
    tables of the build file (orchestration/defs/assets/dbt.py). Then, if the build file started
    as a copy of the previous build (loader.load_state.builds_on_published: the load copies the
    published warehouse only when the same code built it — extractor, landing, dbt project), an
    existing table keeps its rows and only the reports of int_reports_to_rebuild are deleted and
    built again; otherwise every row is. dbt's --full-refresh rebuilds it whole either way. The
    same tables come out (tests/dbt/test_incremental.py). -#}

{% macro only_changed_reports() -%}
    {{- return(var('only_changed_reports') in (true, 'true', 'True', 1, '1')) -}}
{%- endmacro %}

{#- Whether this build file started as a copy of the previous build (loader.load_state, written by
    the load: orchestration/warehouse.py): only then do its marts hold the reports before the
    changes of loader.report_changes. Run-time only (false while parsing). -#}
{% macro builds_on_published() -%}
    {%- if not execute or not only_changed_reports() -%}{{ return(false) }}{%- endif -%}
    {%- set state = adapter.get_relation(database=target.database, schema='loader', identifier='load_state') -%}
    {%- if state is none -%}
        {{ exceptions.raise_compiler_error("var only_changed_reports is true but there is no loader.load_state: the load writes it with loader.report_changes (orchestration/warehouse.py write_load_state); build without the var") }}
    {%- endif -%}
    {%- set found = run_query('select coalesce(bool_and(builds_on_published), false) from ' ~ state) -%}
    {{ return(found.columns[0].values()[0]) }}
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
    {%- if is_incremental() and builds_on_published() -%}
        {{ column }} in (select report_id from {{ rebuild }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of an incremental build: the rows of the reports to rebuild leave the table (then the
    model's rows of those reports are appended); all rows, on a build file that is not a copy of
    the previous build. -#}
{% macro delete_reports_to_rebuild() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_reports_to_rebuild('report_id') }}
    {%- endif -%}
{%- endmacro %}

{#- The relation a data test reads (dbt's own macro, overridden here): with only_changed_reports,
    on a build file that started as a copy of the previous build, a view keyed by report_id is
    tested on the reports loader.report_changes lists. A view is computed again whenever it is
    read, so a test of it over every report costs what a full build of the marts costs; the other
    reports' rows were tested when they were built, by the same code from the same rows. The tables, the marts keyed by
    report_id among them, are still tested whole (uniqueness across old and new rows included).
    loader.report_changes rather than int_reports_to_rebuild: a test of a view may run before that
    table is rebuilt. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if execute and relation.schema != 'marts' and builds_on_published() -%}
        {%- set found = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
        {%- if found is not none and found.type == 'view'
            and 'report_id' in (adapter.get_columns_in_relation(found) | map(attribute='name') | list) -%}
            {%- set rebuilt = 'report_id in (select report_id from loader.report_changes)' -%}
            {%- set where = '(' ~ where ~ ') and ' ~ rebuilt if where else rebuilt -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
