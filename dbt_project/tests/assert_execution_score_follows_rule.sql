-- Finding (warn): execution scores (得分) that differ from min(weight, weight × rate / 100) by more than 0.01.
{{ config(severity='warn') }}

select report_id, funding_line, weight, reported_rate_pct, score, rule_score
from {{ ref('fct_funding_execution') }}
where score_disagrees_with_rule
