-- Funding lines (项目资金) of the canonical reports, with the execution arithmetic: budget
-- adjustment, computed execution rate (falling back to the initial budget where the full-year
-- budget is blank), and the score the funding-score convention in use gives (var
-- funding_score_convention): capped = min(weight, weight × rate / 100), uncapped = weight × rate / 100.

{%- set convention = convention('funding_score_convention', ['capped', 'uncapped']) %}
{%- set score_tolerance = var('score_tolerance') %}

with lines as (
    {{ of_canonical_copies('int_funding_lines_corrected') }}
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
        corrected_fields,
        {{ rounded('budget_full_year - budget_initial', 'amount') }} as budget_adjustment,
        case when budget_initial <> 0
            then {{ rounded('100.0 * (budget_full_year - budget_initial) / budget_initial', 'percent') }}
        end as budget_adjustment_pct,
        budget_full_year is null and budget_initial is not null as rate_base_is_initial,
        coalesce(budget_full_year, budget_initial) as rate_base,
        case when executed is not null and coalesce(budget_full_year, budget_initial) <> 0
            then {{ rounded('100.0 * executed / coalesce(budget_full_year, budget_initial)', 'percent') }}
        end as computed_rate_pct
    from lines
),

scored as (
    select
        *,
        {{ rounded('reported_rate_pct - computed_rate_pct', 'percent') }} as rate_difference_pct,
        case when reported_rate_pct is not null and computed_rate_pct is not null
            then {{ within_tolerance('reported_rate_pct - computed_rate_pct', var('rate_tolerance_pct')) }}
        end as rate_matches,
        weight is not null as is_scored_line,
        -- from the printed rate (the form's own score is computed from it), else the computed one
        case when weight is not null
            then {{ rounded('weight * coalesce(reported_rate_pct, computed_rate_pct) / 100', 'score') }}
        end as uncapped_score,
        case when weight is not null and score is not null then {{ rounded('weight - score', 'score') }} end as points_lost
    from computed
),

conventions as (
    select
        *,
        least(weight, uncapped_score) as capped_score
    from scored
)

select
    * exclude (capped_score, uncapped_score),
    {{ convention }}_score as rule_score,
    case
        when score is null or uncapped_score is null then null
        when {{ within_tolerance('score - capped_score', score_tolerance) }}
            and {{ within_tolerance('score - uncapped_score', score_tolerance) }} then 'both'
        when {{ within_tolerance('score - capped_score', score_tolerance) }} then 'capped'
        when {{ within_tolerance('score - uncapped_score', score_tolerance) }} then 'uncapped'
        else 'neither'
    end as score_convention,
    case when score is not null and uncapped_score is not null
        then not {{ within_tolerance('score - ' ~ convention ~ '_score', score_tolerance) }}
    end as score_disagrees_with_rule
from conventions
