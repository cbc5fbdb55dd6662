-- Finding (warn): forms whose deductions (fct_deductions) do not sum to total weight − total score.
{{ config(severity='warn') }}

with losses as (
    select report_id, sum(points_lost) as deductions
    from {{ ref('fct_deductions') }}
    group by report_id
)

select r.report_id, r.project_name, r.total_weight, r.total_score,
    round(r.total_weight - r.total_score, 2) as printed_loss, round(coalesce(l.deductions, 0), 2) as deductions
from {{ ref('dim_reports') }} as r
left join losses as l on l.report_id = r.report_id
where r.total_weight is null or r.total_score is null
    or abs((r.total_weight - r.total_score) - coalesce(l.deductions, 0)) > 0.01 + 1e-9
