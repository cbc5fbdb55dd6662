-- Every item of a canonical report that lost points (points lost > 0): the funding execution
-- score (its weight sits on the 年度资金总额 line) and each indicator, with the reason text
-- (偏差原因分析及改进措施; the funding block prints none) and a reason category from the seed
-- deduction_reason_taxonomy: the matching keyword rule with the lowest priority number wins;
-- a funding execution score lost to a rate under 100 % → budget_execution_shortfall (the rate is
-- its reason: the block has no reason column); any other item without reason text →
-- no_reason_given; a reason no rule matches → unclassified.
-- A table, not a view: the keyword matching over every deduction was computed again by
-- fct_deductions and each of its data tests. Keyed by report_id like the marts it feeds, so an
-- incremental build matches the keywords of the rebuilt reports only (macros/incremental.sql).
{{ config(**report_incremental_config()) }}

with funding as (
    select
        report_id || '-F' || line_no as deduction_id,
        report_id,
        'funding_execution' as source,
        line_no as item_no,
        '项目资金' as level1,
        '执行率' as level2,
        funding_line as level3,
        cast(null as varchar) as target,
        cast(null as varchar) as actual,
        cast(reported_rate_pct as double) as reported_rate_pct,
        weight,
        score,
        points_lost,
        cast(null as varchar) as reason_text,
        cast(null as varchar) as attainment,
        case
            when coalesce(reported_rate_pct, computed_rate_pct) < 100 then 'under_achieved'
            when coalesce(reported_rate_pct, computed_rate_pct) > 100 then 'over_achieved'
            when coalesce(reported_rate_pct, computed_rate_pct) = 100 then 'on_target'
            else 'undetermined'
        end as direction,
        corrected_fields
    from {{ ref('int_funding_lines_scored') }}
    where points_lost > 0 and {{ in_reports_to_rebuild('report_id') }}
),

indicator as (
    select
        report_id || '-I' || lpad(cast(indicator_no as varchar), 3, '0') as deduction_id,
        report_id,
        'indicator' as source,
        indicator_no as item_no,
        level1,
        level2,
        level3,
        target,
        actual,
        cast(null as double) as reported_rate_pct,
        weight,
        score,
        points_lost,
        nullif(trim(deviation_note), '') as reason_text,
        attainment,
        direction,
        corrected_fields
    from {{ ref('int_indicators_assessed') }}
    where points_lost > 0 and {{ in_reports_to_rebuild('report_id') }}
),

deductions as (
    select * from funding
    union all
    select * from indicator
),

rule_matches as (
    select
        d.deduction_id,
        t.category,
        t.keyword,
        t.priority,
        row_number() over (partition by d.deduction_id order by t.priority, t.keyword) as match_rank
    from deductions as d
    inner join {{ ref('deduction_reason_taxonomy') }} as t
        on d.reason_text is not null
        and length(trim(t.keyword)) > 0
        and contains(d.reason_text, trim(t.keyword))
),

all_matches as (
    select
        deduction_id,
        list(distinct category order by category) as matched_categories
    from rule_matches
    group by deduction_id
)

select
    d.*,
    case
        when d.source = 'funding_execution' and d.direction = 'under_achieved' then 'budget_execution_shortfall'
        when d.reason_text is null then 'no_reason_given'
        else coalesce(m.category, 'unclassified')
    end as reason_category,
    m.keyword as matched_keyword,
    m.priority as matched_priority,
    coalesce(a.matched_categories, []::varchar[]) as matched_categories
from deductions as d
left join rule_matches as m on m.deduction_id = d.deduction_id and m.match_rank = 1
left join all_matches as a on a.deduction_id = d.deduction_id
