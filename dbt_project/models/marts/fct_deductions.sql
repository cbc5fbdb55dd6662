-- One row per deduction: an item of a report that lost points (funding execution or an indicator).
{{ config(**report_incremental_config()) }}

with deductions as (
    select * from {{ ref('int_deductions_categorized') }}
    where {{ in_reports_to_rebuild('report_id') }}
),

report_loss as (
    select report_id, sum(points_lost) as report_points_lost
    from deductions
    group by report_id
)

select
    d.deduction_id,
    d.report_id,
    r.fiscal_year,
    r.district,
    r.department,
    r.implementing_unit,
    r.project_key,
    r.project_name,
    d.source,
    d.item_no,
    d.level1,
    d.level2,
    d.level3,
    d.target,
    d.actual,
    d.reported_rate_pct,
    d.attainment,
    d.direction,
    d.weight,
    d.score,
    d.points_lost,
    {{ rounded('l.report_points_lost', 'score') }} as report_points_lost,
    {{ rounded('d.points_lost / l.report_points_lost', 'ratio') }} as share_of_report_loss,
    d.reason_text,
    d.reason_category,
    d.matched_keyword,
    d.matched_priority,
    d.matched_categories,
    d.corrected_fields
from deductions as d
inner join report_loss as l on l.report_id = d.report_id
inner join {{ ref('int_reports_deduplicated') }} as r on r.report_id = d.report_id
