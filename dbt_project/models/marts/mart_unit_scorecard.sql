-- Per implementing unit (实施单位) and fiscal year: projects, money, execution, scores, losses,
-- indicator outcomes, grade counts and forms that do not add up.
{%- set keys = ['fiscal_year', 'implementing_unit'] %}
{{ config(**group_incremental_config(keys)) }}

with reports as (
    select * from {{ ref('dim_reports') }} as r
    where {{ in_groups_to_rebuild(keys, 'r') }}
),

total_line as (
    select * from {{ ref('fct_funding_execution') }}
    where line_no = 1 and {{ in_reports_of('report_id', 'reports') }}
),

indicators as (
    select
        report_id,
        count(*) as n_indicators,
        count(*) filter (where attainment = 'met') as n_met,
        count(*) filter (where attainment = 'exceeded') as n_exceeded,
        count(*) filter (where attainment = 'not_met') as n_not_met,
        count(*) filter (where attainment = 'not_assessable') as n_not_assessable,
        count(*) filter (where score_disagrees_with_attainment) as n_score_flags,
        sum(points_lost) filter (where points_lost > 0) as indicator_points_lost
    from {{ ref('fct_indicator_outcomes') }}
    where {{ in_reports_of('report_id', 'reports') }}
    group by report_id
),

quality as (
    select
        report_id,
        bool_or(not passed) filter (where check_source = 'extraction') as does_not_add_up,
        bool_or(not passed) filter (where check_source = 'warehouse') as fails_warehouse_rule
    from {{ ref('mart_report_quality') }}
    where {{ in_reports_of('report_id', 'reports') }}
    group by report_id
)

select
    r.fiscal_year,
    r.implementing_unit,
    min(r.district) as district,
    min(r.department) as department,
    count(distinct r.project_key) as n_projects,
    count(*) as n_reports,
    {{ rounded('sum(t.budget_initial)', 'amount') }} as budget_initial,
    {{ rounded('sum(t.budget_full_year)', 'amount') }} as budget_full_year,
    {{ rounded('sum(t.executed)', 'amount') }} as executed,
    {{ rounded('sum(t.rate_base) filter (where t.executed is not null)', 'amount') }} as rate_base,
    {{ rounded('100.0 * sum(t.executed) filter (where t.rate_base is not null)
        / nullif(sum(t.rate_base) filter (where t.executed is not null), 0)', 'percent') }} as weighted_execution_rate_pct,
    {{ rounded('avg(t.reported_rate_pct)', 'percent') }} as avg_reported_rate_pct,
    {{ rounded('avg(r.total_score)', 'score') }} as avg_total_score,
    min(r.total_score) as min_total_score,
    max(r.total_score) as max_total_score,
    {{ rounded('sum(r.points_lost)', 'score') }} as points_lost,
    {{ rounded('coalesce(sum(t.points_lost) filter (where t.points_lost > 0), 0)', 'score') }} as funding_points_lost,
    {{ rounded('coalesce(sum(i.indicator_points_lost), 0)', 'score') }} as indicator_points_lost,
    cast(coalesce(sum(i.n_indicators), 0) as integer) as n_indicators,
    cast(coalesce(sum(i.n_met), 0) as integer) as n_indicators_met,
    cast(coalesce(sum(i.n_exceeded), 0) as integer) as n_indicators_exceeded,
    cast(coalesce(sum(i.n_not_met), 0) as integer) as n_indicators_not_met,
    cast(coalesce(sum(i.n_not_assessable), 0) as integer) as n_indicators_not_assessable,
    cast(coalesce(sum(i.n_score_flags), 0) as integer) as n_indicator_score_flags,
    count(*) filter (where r.grade = '优') as n_grade_excellent,
    count(*) filter (where r.grade = '良') as n_grade_good,
    count(*) filter (where r.grade = '中') as n_grade_fair,
    count(*) filter (where r.grade = '差') as n_grade_poor,
    count(*) filter (where r.grade is null or r.grade not in ('优', '良', '中', '差')) as n_grade_other,
    count(*) filter (where q.does_not_add_up) as n_reports_not_adding_up,
    count(*) filter (where q.fails_warehouse_rule) as n_reports_failing_rules
from reports as r
left join total_line as t on t.report_id = r.report_id
left join indicators as i on i.report_id = r.report_id
left join quality as q on q.report_id = r.report_id
group by r.fiscal_year, r.implementing_unit
