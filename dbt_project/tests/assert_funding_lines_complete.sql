-- Every report has its four funding lines in fct_funding_execution, the total line first
-- (warn: a form read with fewer lines is an extraction finding).
{{ config(severity='warn') }}

select r.report_id, count(f.line_no) as n_lines
from {{ ref('dim_reports') }} as r
left join {{ ref('fct_funding_execution') }} as f on f.report_id = r.report_id
group by r.report_id
having count(f.line_no) <> 4
    or count(*) filter (where f.line_no = 1 and f.funding_line = '年度资金总额') <> 1
