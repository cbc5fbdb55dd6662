-- The reports whose rows an incremental build of the marts keyed by report_id deletes and builds
-- again (macros/incremental.sql): empty in a full build (var only_changed_reports false), every
-- report when the build file holds no previous marts.dim_reports.
-- Every report loader.report_changes lists (added, removed, updated), and every copy of the same
-- printed form, before or after the change: which copy is canonical (int_report_copies_ranked),
-- and the canonical copy's list of duplicates, can change with any of them. The copies before the
-- change are read from the previous build's marts.dim_reports (not a ref: this model runs before
-- dim_reports is rebuilt, and must see the old one); the change list from loader.report_changes,
-- written by the load (orchestration/warehouse.py, schema LOADER).
-- With each report, whether it was the canonical copy of its form in the previous build, and its
-- group keys there (previous_<key>, for each of report_group_keys()): the aggregates over the
-- reports rebuild the groups a changed report left as well as those it joins
-- (macros/incremental.sql in_groups_to_rebuild).
{{ config(materialized='table') }}
-- depends_on: {{ ref('int_report_copies_ranked') }}

{%- set previous = none %}
{%- if builds_on_listed_changes() %}
    {%- set previous = adapter.get_relation(database=this.database, schema='marts', identifier='dim_reports') %}
{%- endif %}

{%- if not only_changed_reports() %}
-- a full build: the marts keyed by report_id are rebuilt whole, without this list
select cast(null as varchar) as report_id, {{ no_previous_group_keys() }}
where false
{%- elif previous is none %}
-- no previous build to keep: every report
select report_id, {{ no_previous_group_keys() }} from {{ ref('int_report_copies_ranked') }}
{%- else %}
with changed as (
    select report_id from {{ loader_relation('report_changes') }}
),

copies_now as (
    select report_id, form_identity from {{ ref('int_report_copies_ranked') }}
),

copies_before as (
    -- every copy of each printed form of the previous build: its canonical report and duplicates
    select form_identity, unnest(list_prepend(report_id, duplicate_report_ids)) as report_id
    from {{ previous }}
),

touched_forms as (
    select form_identity from copies_now where report_id in (select report_id from changed)
    union
    select form_identity from copies_before where report_id in (select report_id from changed)
),

rebuilt as (
    select report_id from changed
    union
    select report_id from copies_now where form_identity in (select form_identity from touched_forms)
    union
    select report_id from copies_before where form_identity in (select form_identity from touched_forms)
)

select
    r.report_id,
    p.report_id is not null as was_canonical,
    {%- for key in report_group_keys() %}
    p.{{ key }} as previous_{{ key }}{{ ',' if not loop.last }}
    {%- endfor %}
from rebuilt as r
left join {{ previous }} as p on p.report_id = r.report_id
{%- endif %}
