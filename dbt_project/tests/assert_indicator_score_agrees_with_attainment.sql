-- Finding (warn): indicators with full marks on a missed target, or points lost on a met one.
{{ config(severity='warn') }}

select report_id, indicator_no, project_name, level3, target, actual, attainment, weight, score,
    score_flag_reason, deviation_note
from {{ ref('fct_indicator_outcomes') }}
where score_disagrees_with_attainment
