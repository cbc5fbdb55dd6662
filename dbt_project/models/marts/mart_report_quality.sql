-- Per printed form, every quality check: the form's own arithmetic as extraction checked it
-- (check_source 'extraction': the record checks of extract/validate.py, landed in raw.checks),
-- then the warehouse's rules (check_source 'warehouse': scoring conventions, the audit rule on
-- reasons, the deductions sum). The one place for "forms that do not add up":
--   select * from marts.mart_report_quality where check_source = 'extraction' and not passed
{{ config(**report_incremental_config()) }}

{%- set score_tolerance = var('score_tolerance') %}

with reports as (
    select * from {{ ref('dim_reports') }}
    where {{ in_reports_to_rebuild('report_id') }}
),

extraction as (
    select
        c.report_id,
        'extraction' as check_source,
        c.check_name,
        c.check_family,
        c.actual as printed_value,
        c.expected as expected_value,
        c.detail,
        c.passed
    from {{ ref('stg_extract__checks') }} as c
    inner join reports as r on r.report_id = c.report_id
),

funding_score as (
    select
        report_id,
        score as printed_value,
        rule_score as expected_value,
        'convention the printed score follows: ' || score_convention as detail,
        not score_disagrees_with_rule as passed
    from {{ ref('fct_funding_execution') }}
    where line_no = 1 and {{ in_reports_to_rebuild('report_id') }}  -- 年度资金总额 carries the execution weight and score
),

indicators as (
    select
        report_id,
        count(score_disagrees_with_rule) as n_scored_by_rule,
        count(*) filter (where score_disagrees_with_rule) as n_off_rule,
        string_agg(
            level3 || ': printed ' || score || ', rule ' || rule_score, '; ' order by indicator_no
        ) filter (where score_disagrees_with_rule) as off_rule,
        count(*) filter (where reason_missing) as n_reason_missing,
        string_agg(level3 || ' (−' || points_lost || ')', '; ' order by indicator_no)
            filter (where reason_missing) as reason_missing
    from {{ ref('fct_indicator_outcomes') }}
    where {{ in_reports_to_rebuild('report_id') }}
    group by report_id
),

deductions as (
    select report_id, {{ rounded('sum(points_lost)', 'score') }} as points_lost
    from {{ ref('fct_deductions') }}
    where {{ in_reports_to_rebuild('report_id') }}
    group by report_id
),

warehouse as (
    select
        r.report_id,
        'funding_score_rule' as check_name,
        f.printed_value,
        f.expected_value,
        f.detail,
        f.passed
    from reports as r
    left join funding_score as f on f.report_id = r.report_id
    union all
    select
        r.report_id,
        'indicator_score_rule',
        i.n_off_rule,
        0,
        i.off_rule,
        case when i.n_scored_by_rule > 0 then i.n_off_rule = 0 end
    from reports as r
    left join indicators as i on i.report_id = r.report_id
    union all
    select
        r.report_id,
        'deviation_reasons_given',
        coalesce(i.n_reason_missing, 0),
        0,
        i.reason_missing,
        coalesce(i.n_reason_missing, 0) = 0
    from reports as r
    left join indicators as i on i.report_id = r.report_id
    union all
    select
        r.report_id,
        'deductions_sum',
        r.points_lost,
        coalesce(d.points_lost, 0),
        null,
        {{ within_tolerance('r.points_lost - coalesce(d.points_lost, 0)', score_tolerance) }}
    from reports as r
    left join deductions as d on d.report_id = r.report_id
),

checks as (
    select * from extraction
    union all
    select report_id, 'warehouse', check_name, check_name, printed_value, expected_value, detail, passed
    from warehouse
)

select
    c.report_id,
    r.fiscal_year,
    r.district,
    r.department,
    r.implementing_unit,
    r.project_name,
    r.source_file,
    c.check_source,
    c.check_name,
    c.check_family,
    c.printed_value,
    c.expected_value,
    {{ rounded('c.printed_value - c.expected_value', ['score', 'percent']) }} as difference,
    c.detail,
    case when c.passed then 'pass' when not c.passed then 'fail' else 'not_checkable' end as status,
    c.passed,
    len(r.corrected_fields) > 0 as form_corrected
from checks as c
inner join reports as r on r.report_id = c.report_id
