-- Every staged report (corrections applied) with the identity of the printed form it was read
-- from, and the rank of each copy of that form (1 = the canonical copy the marts use). data_raw/ can hold the same form more than once (the department PDF and
-- a text dump of it, or the same form in two PDFs); each copy is a separate staged report with its
-- own report_id. One copy per form identity is canonical: PDF before text, then fewer failed
-- checks, fewer uncertain fields, then the file holding more forms (the department's whole
-- publication rather than an excerpt), then the smallest report_id (so the choice is stable).
-- A table, not a view: the ranking window over every copy was computed again by each of its
-- consumers (int_reports_deduplicated, int_reports_to_rebuild, mart_corrections) and data tests.
-- Incremental on a build file that is a copy of the previous build: only the copies of the forms a
-- changed report (loader.report_changes) belongs to, now or before, are ranked again — a changed
-- copy can change the rank of its unchanged copies, whose ranking inputs are kept in the table.
-- Every report of a changed file is itself changed (report_id is the file's sha256 and the form's
-- index; source_files belongs to the file), so forms_in_file is exact over the changed reports.
-- It runs before int_reports_to_rebuild (which reads it), so it reads the change list itself; the
-- previous rows are read before they are replaced (delete+insert), and a removed report's row
-- leaves after (post_hook).
{%- set changed = 'select report_id from ' ~ loader_relation('report_changes') %}
{%- set incremental = incremental_config(
    post_hook="{% if rebuilds_only_changed() %}delete from {{ this }} where report_id in (select report_id from {{ loader_relation('report_changes') }} where change = 'removed'){% endif %}") %}
{%- do incremental.update({'incremental_strategy': 'delete+insert', 'unique_key': 'report_id'}) %}
{{ config(**incremental) }}

with reports as (
    select * from {{ ref('int_reports_corrected') }}
    {%- if rebuilds_only_changed() %}
    where report_id in ({{ changed }})
    {%- endif %}
),

total_line as (
    -- 年度资金总额: the funding block's total line (line 1)
    select * from {{ ref('int_funding_lines_corrected') }}
    where line_no = 1
    {%- if rebuilds_only_changed() %}
        and report_id in ({{ changed }})
    {%- endif %}
),

identified as (
    select
        r.report_id,
        r.source_kind,
        r.source_file,
        r.checks_failed,
        coalesce(len(r.uncertain_fields), 0) as n_uncertain_fields,
        count(*) over (partition by r.sha256) as forms_in_file,
        -- Budget cells are left out of the identity on purpose: a text dump of the variant funding
        -- block cannot place its blank cell (text_ambiguous), so the same form would otherwise get
        -- two identities. The executed amount and the printed rate are unambiguous.
        md5(concat_ws('|',
            coalesce(cast(r.fiscal_year as varchar), '∅'),
            coalesce(r.supervising_dept, '∅'),
            coalesce(r.implementing_unit, '∅'),
            coalesce(r.project_name, '∅'),
            coalesce(cast(round(r.total_score, 2) as varchar), '∅'),
            coalesce(cast(round(t.executed, 2) as varchar), '∅'),
            coalesce(cast(round(t.execution_rate_pct, 2) as varchar), '∅')
        )) as form_identity
    from reports as r
    left join total_line as t on t.report_id = r.report_id
),

{%- if rebuilds_only_changed() %}

copies as (
    -- the changed reports, and the unchanged copies of their forms (now or before) as ranked then
    select * from identified
    union all
    select report_id, source_kind, source_file, checks_failed, n_uncertain_fields, forms_in_file, form_identity
    from {{ this }}
    where report_id not in ({{ changed }})
        and form_identity in (
            select form_identity from identified
            union
            select form_identity from {{ this }} where report_id in ({{ changed }})
        )
),
{%- else %}

copies as (
    select * from identified
),
{%- endif %}

ranked as (
    select
        *,
        row_number() over (
            partition by form_identity
            order by
                case source_kind when 'text' then 1 else 0 end,  -- a text dump last
                checks_failed,
                n_uncertain_fields,
                forms_in_file desc,
                report_id
        ) as copy_rank,
        count(*) over (partition by form_identity) as n_copies
    from copies
)

select
    report_id,
    form_identity,
    source_kind,
    source_file,
    checks_failed,
    n_uncertain_fields,
    forms_in_file,
    copy_rank,
    n_copies,
    copy_rank = 1 as is_canonical,
    first_value(report_id) over (
        partition by form_identity order by copy_rank
    ) as canonical_report_id
from ranked
