-- Finding (warn): forms whose indicator scores + execution score differ from the printed total score (总分 得分).
{{ config(severity='warn') }}

with parts as (
    select report_id, sum(score) as indicator_scores
    from {{ ref('fct_indicator_outcomes') }}
    group by report_id
)

select r.report_id, r.project_name, r.total_score, p.indicator_scores, f.score as funding_score
from {{ ref('dim_reports') }} as r
left join parts as p on p.report_id = r.report_id
left join {{ ref('fct_funding_execution') }} as f on f.report_id = r.report_id and f.line_no = 1
where r.total_score is null
    or abs(r.total_score - (coalesce(p.indicator_scores, 0) + coalesce(f.score, 0))) > 0.01 + 1e-9
