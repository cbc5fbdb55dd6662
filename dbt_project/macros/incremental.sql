{#- Marts keyed by report_id (and int_reports_deduplicated, which they all read) that rebuild
    only the reports a load changed.

    With the var `only_changed_reports` false (the default, and plain dbt CLI use) these models are
    rebuilt whole on every build, like any table. A load passes it true on every build file it
    landed, with loader.report_changes listing what the file's marts miss: on a copy of the
    published warehouse (the load copies it only when the same code built it — extractor,
    landing, dbt project; orchestration/defs/assets/dbt.py), the reports that changed since; on a
    fresh file, which holds no marts, every report. Then an existing table keeps its rows and only
    the reports of int_reports_to_rebuild are deleted and built again; a table not there yet is
    built whole. dbt's --full-refresh rebuilds it whole either way. The same tables come out
    (tests/dbt/test_incremental.py). One var value for both kinds of file keeps dbt's partial
    parse valid from one load to the next. Beside them: the aggregates over the reports rebuild the
    groups those reports belong to (group_incremental_config), int_report_copies_ranked ranks
    again the copies of the forms they belong to, and the singular tests that judge each report
    alone check those reports. -#}

{% macro only_changed_reports() -%}
    {{- return(var('only_changed_reports') in (true, 'true', 'True', 1, '1')) -}}
{%- endmacro %}

{#- A table the load writes into the build file beside the landing tables (schema LOADER of
    orchestration/warehouse.py, not a dbt source: it belongs to one load, not to the warehouse):
    'load_state' (one row: the load's fingerprint, code version, run, builds_on_published) or
    'report_changes' (report_id, change). -#}
{% macro loader_relation(identifier) -%}
    {{- return(api.Relation.create(database=target.database, schema='loader', identifier=identifier)) -}}
{%- endmacro %}

{#- Whether this build keeps the marts the file holds and rebuilds only what loader.report_changes
    lists: the var, which check_build_file holds to the file's loader.load_state once per
    invocation (read in every node instead, it was ≈ 340 queries a build, ≈ 8 ms each). Run-time
    only (false while parsing). -#}
{% macro builds_on_listed_changes() -%}
    {{- return(execute and only_changed_reports()) -}}
{%- endmacro %}

{#- on-run-start: refuses a build with only_changed_reports on a file no load landed (without
    loader.load_state, its loader.report_changes, if any, would not list what its marts miss). -#}
{% macro check_build_file() -%}
    {%- if execute and only_changed_reports() -%}
        {%- set state = load_relation(loader_relation('load_state')) -%}
        {%- set found = run_query('select count(*) from ' ~ state) if state is not none else none -%}
        {%- if found is none or found.columns[0].values()[0] != 1 -%}
            {{ exceptions.raise_compiler_error("var only_changed_reports is true but the build file has no loader.load_state: no load landed it, so nothing lists what its marts miss (a load writes it with loader.report_changes: orchestration/warehouse.py write_load_state); build without the var") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- config(**report_incremental_config()): the config of a mart keyed by report_id. full_refresh
    true rebuilds it whole on every build; none leaves it to dbt (whole only with --full-refresh,
    or when the table does not exist). -#}
{% macro report_incremental_config() -%}
    {{- return(incremental_config("{{ delete_reports_to_rebuild() }}")) -}}
{%- endmacro %}

{#- config(**group_incremental_config(keys)): the config of an aggregate over the canonical
    reports with one row per group of `keys` (some of report_group_keys()): an incremental build
    deletes and builds again only the groups a report to rebuild belongs to, before or after the
    change. Its query keeps the rows of in_groups_to_rebuild(keys). -#}
{% macro group_incremental_config(keys) -%}
    {{- return(incremental_config("{{ delete_groups_to_rebuild(" ~ keys ~ ") }}")) -}}
{%- endmacro %}

{#- The config the incremental models share, with their hooks: full_refresh true (rebuilt whole)
    unless the load passes only_changed_reports. -#}
{% macro incremental_config(pre_hook=[], post_hook=[]) -%}
    {{- return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'full_refresh': none if only_changed_reports() else true,
        'pre_hook': pre_hook,
        'post_hook': post_hook,
    }) -}}
{%- endmacro %}

{#- Whether this build keeps the rows of an incremental table and rebuilds only what the reports
    of int_reports_to_rebuild touch; for a singular test, whether it checks only those reports. -#}
{% macro rebuilds_only_changed() -%}
    {{- return((model.resource_type == 'test' or is_incremental()) and builds_on_listed_changes()) -}}
{%- endmacro %}

{#- A condition on `column` (a report_id): true for every row in a full build, only for the
    reports to rebuild in an incremental one. A singular test that judges each report on its own
    rows in the tables keyed by report_id uses it too: the other reports' rows are the ones the
    previous build made from the same rows by the same code, and passed. -#}
{% macro in_reports_to_rebuild(column) -%}
    {{- in_reports_of(column, ref('int_reports_to_rebuild')) -}}
{%- endmacro %}

{#- A condition on `column` (a report_id): in an incremental build, the reports of `relation`
    (int_reports_to_rebuild, or an aggregate's reports of the groups to rebuild, so that its
    per-report inputs are read for those reports only); true in a full build. -#}
{% macro in_reports_of(column, relation) -%}
    {%- if rebuilds_only_changed() -%}
        {{ column }} in (select report_id from {{ relation }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The columns of dim_reports (int_reports_deduplicated) the aggregates group by, and their
    DuckDB types: int_reports_to_rebuild keeps each report's values of the previous build. -#}
{% macro report_group_keys() -%}
    {{- return({'fiscal_year': 'integer', 'implementing_unit': 'varchar', 'project_key': 'varchar'}) -}}
{%- endmacro %}

{#- The columns of int_reports_to_rebuild after report_id, when there is no previous build. -#}
{% macro no_previous_group_keys() -%}
    false as was_canonical
    {%- for key, type in report_group_keys().items() -%}
    , cast(null as {{ type }}) as previous_{{ key }}
    {%- endfor -%}
{%- endmacro %}

{#- A condition on the group columns `keys` of the row `qualifier` (a table name or alias): true
    for every row in a full build; in an incremental one, for the groups of the reports to
    rebuild, now (int_reports_deduplicated, already rebuilt) or in the previous build (the
    previous_<key> columns of int_reports_to_rebuild: a removed or moved report's old group). A
    null key is a group like any other. -#}
{% macro in_groups_to_rebuild(keys, qualifier) -%}
    {%- set rebuild = ref('int_reports_to_rebuild') -%}
    {%- set reports = ref('int_reports_deduplicated') -%}
    {%- if rebuilds_only_changed() -%}
        exists (
            select 1
            from (
                select {{ keys | join(', ') }}
                from {{ reports }}
                where report_id in (select report_id from {{ rebuild }})
                union
                select {% for key in keys %}previous_{{ key }} as {{ key }}{{ ', ' if not loop.last }}{% endfor %}
                from {{ rebuild }}
                where was_canonical
            ) as touched
            where {% for key in keys %}touched.{{ key }} is not distinct from {{ qualifier }}.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
        )
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

{#- Pre-hook of an aggregate's incremental build: the groups to rebuild leave the table (all rows
    when the build file holds no previous dim_reports: int_reports_to_rebuild lists every report). -#}
{% macro delete_groups_to_rebuild(keys) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as kept where {{ in_groups_to_rebuild(keys, 'kept') }}
    {%- endif -%}
{%- endmacro %}

{#- The relation a data test reads (dbt's own macro, overridden here): with only_changed_reports,
    a view keyed by report_id is tested on the reports loader.report_changes lists (on a copy of
    the previous build, the changed ones; on a fresh file, all). A view is computed again whenever
    it is read, so a test of it over every report costs what a full build of the marts costs; the other
    reports' rows were tested when they were built, by the same code from the same rows. A table
    keyed by report_id (report_incremental_config) is tested on those reports too where that is
    exact (exact_on_changed_reports); its other tests, and every other table, are tested whole.
    loader.report_changes rather than int_reports_to_rebuild: a test of a view may run before that
    table is rebuilt. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if builds_on_listed_changes() -%}
        {#- from the graph, not the relation: a query describing a view binds every view under
            it (≈ 20 ms a test: half of what dbt spent compiling an incremental build at 1,000 forms);
            every column of a tested model is documented (tests/dbt/test_marts.py) -#}
        {%- set node = model_node(relation) -%}
        {%- set keyed = node is not none and 'report_id' in node.columns -%}
        {%- set view = keyed and node.config.materialized == 'view' and relation.schema != 'marts' -%}
        {%- set table = keyed and report_keyed_table(node) and exact_on_changed_reports() -%}
        {%- if view or table -%}
            {#- a table keyed by report_id is built after int_reports_to_rebuild: its rebuilt
                reports include the copies of a changed form that loader.report_changes omits -#}
            {%- set changed = adapter.get_relation(
                database=relation.database, schema='intermediate', identifier='int_reports_to_rebuild')
                if table else loader_relation('report_changes') -%}
            {%- set rebuilt = 'report_id in (select report_id from ' ~ changed ~ ')' -%}
            {%- set where = '(' ~ where ~ ') and ' ~ rebuilt if where else rebuilt -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The graph node of the model `relation` is, or none (a seed, a source). -#}
{% macro model_node(relation) -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.schema == relation.schema and node.alias == relation.identifier -%}
        {{- return(node) -}}
    {%- endfor -%}
    {{- return(none) -}}
{%- endmacro %}

{#- Whether the model `node` is an incremental table built after int_reports_to_rebuild (its
    unchanged reports' rows are the rows the previous build made and tested, and that list is this
    build's when its tests run). int_report_copies_ranked is built before it, so it is tested whole. -#}
{% macro report_keyed_table(node) -%}
    {{- return(node.config.materialized == 'incremental'
        and ('model.' ~ project_name ~ '.int_reports_to_rebuild') in node.depends_on.nodes) -}}
{%- endmacro %}

{#- Whether the data test being compiled gives the same verdict on a report-keyed table when
    restricted to the reports int_reports_to_rebuild lists, given that the other reports' rows are
    unchanged and passed it when built by the same code:
    - not_null, accepted_values: each row is judged alone.
    - relationships: each row's reference is judged alone against the parent read whole; the
      parents (dims, dim_reports, seeds) are built from every report, so an unchanged row's parent
      is still there (a removed report's rows left with it).
    - unique / unique_combination_of_columns over a key holding report_id: two rows with the same
      key have the same report_id, so a duplicate either lies among unchanged rows (tested before)
      or among changed ones (tested now). Keys without report_id (deduction_id) stay whole: a new
      row could collide with an unchanged one.
    Singular tests (no test_metadata) stay whole here; those that judge each report on its own
    rows restrict themselves (in_reports_to_rebuild). -#}
{% macro exact_on_changed_reports() -%}
    {%- set meta = model.get('test_metadata') or {} -%}
    {%- set kwargs = meta.get('kwargs', {}) -%}
    {%- if meta.get('name') in ('not_null', 'accepted_values', 'relationships') -%}
        {{- return(true) -}}
    {%- elif meta.get('name') == 'unique' -%}
        {{- return(kwargs.get('column_name') == 'report_id') -}}
    {%- elif meta.get('name') == 'unique_combination_of_columns' -%}
        {{- return('report_id' in kwargs.get('combination_of_columns', [])) -}}
    {%- endif -%}
    {{- return(false) -}}
{%- endmacro %}
