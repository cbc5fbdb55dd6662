-- Finding (warn): forms whose indicator weights + execution weight differ from the printed total weight (总分 分值).
{{ config(severity='warn') }}

with parts as (
    select report_id, sum(weight) as indicator_weights
    from {{ ref('fct_indicator_outcomes') }}
    group by report_id
)

select r.report_id, r.project_name, r.total_weight, p.indicator_weights, f.weight as funding_weight
from {{ ref('dim_reports') }} as r
left join parts as p on p.report_id = r.report_id
left join {{ ref('fct_funding_execution') }} as f on f.report_id = r.report_id and f.line_no = 1
where r.total_weight is null
    or abs(r.total_weight - (coalesce(p.indicator_weights, 0) + coalesce(f.weight, 0))) > 0.01 + 1e-9
