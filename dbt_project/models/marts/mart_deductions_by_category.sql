-- Points lost and deduction counts by fiscal year, district, department, level 1 / level 2 and
-- reason category. Funding execution deductions appear under level1 项目资金 / level2 执行率.
-- Rebuilt by fiscal year: a year's shares change with any of its deductions.
{{ config(**group_incremental_config(['fiscal_year'])) }}

with deductions as (
    select * from {{ ref('fct_deductions') }} as d
    where {{ in_groups_to_rebuild(['fiscal_year'], 'd') }}
),

grouped as (
    select
        fiscal_year,
        district,
        department,
        level1,
        level2,
        reason_category,
        count(*) as n_deductions,
        count(distinct report_id) as n_reports,
        {{ rounded('sum(points_lost)', 'score') }} as points_lost,
        {{ rounded('avg(points_lost)', 'score') }} as avg_points_lost,
        count(*) filter (where direction = 'over_achieved') as n_over_achieved,
        count(*) filter (where direction = 'under_achieved') as n_under_achieved
    from deductions
    group by all
)

select
    g.*,
    c.label_en as reason_label_en,
    c.label_zh as reason_label_zh,
    {{ rounded('g.points_lost / sum(g.points_lost) over (partition by g.fiscal_year)', 'ratio') }} as share_of_year_points_lost
from grouped as g
left join {{ ref('deduction_reason_categories') }} as c on c.category = g.reason_category
