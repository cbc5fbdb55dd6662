-- Funding lines (项目资金) of the canonical reports, with the execution arithmetic:
-- budget adjustment, computed execution rate (falling back to the initial budget where the
-- full-year budget is blank), and the score the usual rule gives: min(weight, weight × rate / 100).

with lines as (
    select f.*
    from {{ ref('stg_extract__funding_lines') }} as f
    inner join {{ ref('int_reports') }} as r on r.report_id = f.report_id
),

computed as (
    select
        report_id,
        line_no,
        line as funding_line,
        budget_initial,
        budget_full_year,
        executed,
        weight,
        execution_rate_pct as reported_rate_pct,
        score,
        budget_full_year - budget_initial as budget_adjustment,
        case when budget_initial <> 0
            then round(100.0 * (budget_full_year - budget_initial) / budget_initial, 2)
        end as budget_adjustment_pct,
        budget_full_year is null and budget_initial is not null as rate_base_is_initial,
        coalesce(budget_full_year, budget_initial) as rate_base,
        case when executed is not null and coalesce(budget_full_year, budget_initial) <> 0
            then round(100.0 * executed / coalesce(budget_full_year, budget_initial), 2)
        end as computed_rate_pct
    from lines
),

scored as (
select
    *,
    round(reported_rate_pct - computed_rate_pct, 2) as rate_difference_pct,
    case when reported_rate_pct is not null and computed_rate_pct is not null
        then abs(reported_rate_pct - computed_rate_pct) <= {{ var('rate_tolerance_pct', 0.015) }} + 1e-9
    end as rate_matches,
    weight is not null as is_scored_line,
    -- rule score from the printed rate (the form's own score is computed from it), else the computed one
    case when weight is not null and coalesce(reported_rate_pct, computed_rate_pct) is not null
        then cast(round(least(
            cast(weight as decimal(18, 6)),
            cast(weight as decimal(18, 6)) * cast(coalesce(reported_rate_pct, computed_rate_pct) as decimal(18, 6)) / 100
        ), 2) as double)
    end as rule_score,
    case when weight is not null and score is not null then round(weight - score, 2) end as points_lost
from computed
)

select
    *,
    case when score is not null and rule_score is not null
        then abs(score - rule_score) > {{ var('score_tolerance', 0.01) }} + 1e-9
    end as score_disagrees_with_rule
from scored
