-- Finding (warn): funding lines whose printed execution rate (执行率) is not 100 × executed / budget.
{{ config(severity='warn') }}

select report_id, line_no, funding_line, executed, budget_full_year, budget_initial,
    reported_rate_pct, computed_rate_pct, rate_difference_pct
from {{ ref('fct_funding_execution') }}
where rate_matches = false
