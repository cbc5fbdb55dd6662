{{ config(materialized='table') }}
-- Per report, each arithmetic check of the printed form: the printed value, the value the form's
-- own numbers give, and pass / fail (not_checkable where a value is missing). An auditor lists the
-- forms that do not add up with: select distinct report_id from marts.mart_report_quality where status = 'fail'.

{% set score_tol = var('score_tolerance', 0.01) %}
{% set rate_tol = var('rate_tolerance_pct', 0.015) %}

with reports as (
    select * from {{ ref('dim_reports') }}
),

total_line as (
    select * from {{ ref('fct_funding_execution') }} where line_no = 1
),

indicator_sums as (
    select
        report_id,
        count(*) as n_indicators,
        count(weight) as n_weights,
        count(score) as n_scores,
        sum(weight) as indicator_weights,
        sum(score) as indicator_scores
    from {{ ref('fct_indicator_outcomes') }}
    group by report_id
),

deduction_sums as (
    select report_id, sum(points_lost) as deductions
    from {{ ref('fct_deductions') }}
    group by report_id
),

base as (
    select
        r.report_id,
        r.total_weight,
        r.total_score,
        r.grade,
        r.band_grade,
        t.weight as funding_weight,
        t.score as funding_score,
        t.reported_rate_pct,
        t.computed_rate_pct,
        t.rule_score,
        -- a missing part makes the sum unknown, as in extract.validate
        case when i.n_weights = i.n_indicators and t.weight is not null
            then round(i.indicator_weights + t.weight, 2) end as expected_weight,
        case when i.n_scores = i.n_indicators and t.score is not null
            then round(i.indicator_scores + t.score, 2) end as expected_score,
        round(coalesce(d.deductions, 0), 2) as deductions
    from reports as r
    left join total_line as t on t.report_id = r.report_id
    left join indicator_sums as i on i.report_id = r.report_id
    left join deduction_sums as d on d.report_id = r.report_id
),

checks as (
    select report_id, 1 as check_order, 'weights_sum' as check_name,
        total_weight as printed_value, expected_weight as expected_value,
        cast(null as varchar) as printed_text, cast(null as varchar) as expected_text,
        {{ score_tol }} as tolerance,
        '总分 分值 = sum of indicator weights (分值) + funding execution weight' as rule
    from base
    union all
    select report_id, 2, 'scores_sum',
        total_score, expected_score, null, null, {{ score_tol }},
        '总分 得分 = sum of indicator scores (得分) + funding execution score'
    from base
    union all
    select report_id, 3, 'execution_rate',
        reported_rate_pct, computed_rate_pct, null, null, {{ rate_tol }},
        '年度资金总额 执行率 = 100 × 全年执行数 / 全年预算数 (年初预算数 where blank)'
    from base
    union all
    select report_id, 4, 'score_rule',
        funding_score, rule_score, null, null, {{ score_tol }},
        '年度资金总额 得分 = min(分值, 分值 × 执行率 / 100), 2 decimals'
    from base
    union all
    select report_id, 5, 'grade_band',
        total_score, total_score, grade, band_grade, null,
        '评分等级 matches the band of 总分 得分 (seed grade_bands: 优 ≥ 90, 良 80–90, 中 60–80, 差 < 60)'
    from base
    union all
    select report_id, 6, 'deductions_sum',
        round(total_weight - total_score, 2), deductions, null, null, {{ score_tol }},
        'total weight − total score = sum of points lost over fct_deductions'
    from base
)

select
    c.report_id,
    r.fiscal_year,
    r.district,
    r.department,
    r.implementing_unit,
    r.project_name,
    r.source_file,
    c.check_order,
    c.check_name,
    c.rule,
    c.printed_value,
    c.expected_value,
    round(c.printed_value - c.expected_value, 4) as difference,
    c.tolerance,
    c.printed_text,
    c.expected_text,
    case
        when c.check_name = 'grade_band' then
            case when c.printed_text is null or c.expected_text is null then 'not_checkable'
                 when c.printed_text = c.expected_text then 'pass' else 'fail' end
        when c.printed_value is null or c.expected_value is null then 'not_checkable'
        when abs(c.printed_value - c.expected_value) <= c.tolerance + 1e-9 then 'pass'
        else 'fail'
    end as status,
    case
        when c.check_name = 'grade_band' then
            case when c.printed_text is null or c.expected_text is null then null
                 else c.printed_text = c.expected_text end
        when c.printed_value is null or c.expected_value is null then null
        else abs(c.printed_value - c.expected_value) <= c.tolerance + 1e-9
    end as passed
from checks as c
inner join reports as r on r.report_id = c.report_id
