-- One row per report and funding line (项目资金: 年度资金总额, 当年财政拨款, 上年结转资金, 其他资金).
{{ config(**report_incremental_config()) }}

select
    f.report_id,
    f.line_no,
    f.funding_line,
    r.fiscal_year,
    r.district,
    r.department,
    r.implementing_unit,
    r.project_key,
    r.project_name,
    f.budget_initial,
    f.budget_full_year,
    f.executed,
    f.budget_adjustment,
    f.budget_adjustment_pct,
    f.reported_rate_pct,
    f.computed_rate_pct,
    f.rate_base,
    f.rate_base_is_initial,
    f.rate_difference_pct,
    f.rate_matches,
    f.is_scored_line,
    f.weight,
    f.score,
    f.rule_score,
    f.score_disagrees_with_rule,
    f.score_convention,
    f.points_lost,
    f.corrected_fields
from {{ ref('int_funding_lines_scored') }} as f
inner join {{ ref('int_reports_deduplicated') }} as r on r.report_id = f.report_id
where {{ in_reports_to_rebuild('f.report_id') }}
