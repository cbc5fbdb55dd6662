-- Indicators (绩效指标) of the canonical reports with their computed attainment.
--
-- The target (年度指标值) and actual (实际完成值) were parsed at staging by
-- extract.targets.parse_value; this model only compares the parses. Attainment rules, first match:
--   1. target or actual empty                                   → not_assessable
--   2. the actual is an achievement claim (达成指标, 达成, 完成, 合规, 零投诉…) → met
--   3. qualitative target:
--        actual repeats the target wording (合规/合规, 否/否)     → met
--        target is a "none" wording (零投诉, 无, 未发生: value 0) and the actual is a number:
--        0 → met, more than 0 → not_met
--        anything else                                           → not_assessable
--   4. quantitative target: the actual must be a bare number (no operator) in the same unit
--      (after normalization; both unit-less also counts), else   → not_assessable.
--      The target operator (a bare number is read as "="):
--        "="   actual = target → met, actual > target → exceeded, actual < target → not_met
--        "≥"   actual ≥ target → met, else not_met   (a floor: any value above it is "met";
--        ">"   actual > target → met, else not_met    over-delivery shows in achievement_ratio)
--        "≤"   actual ≤ target → met, else not_met   (a ceiling: above it is not_met)
--        "<"   actual < target → met, else not_met
--      Equality allows float noise only (float_noise()).
--
-- The score the indicator scoring convention in use gives (vars indicator_score_when_met,
-- indicator_score_when_missed): met → full marks (分值); a numeric target missed → 分值 × B/A
-- (实际完成值 / 年度指标值), or A/B for a ceiling (≤, <), 2 decimals. Other outcomes (exceeded, not
-- assessable, a wording missed) have no convention score.

{%- set eps = float_noise() %}
{%- set when_met = convention('indicator_score_when_met', ['full', 'unchecked']) %}
{%- set when_missed = convention('indicator_score_when_missed', ['proportional', 'unchecked']) %}

with indicators as (
    {{ of_canonical_copies('int_indicators_corrected') }}
),

compared as (
    select
        *,
        case when target_kind = 'quantitative' then coalesce(target_op, '=') end as target_op_effective,
        target_unit is not distinct from actual_unit as units_match,
        target_kind = 'quantitative'
            and actual_kind = 'quantitative'
            and coalesce(actual_op, '=') = '='
            and target_unit is not distinct from actual_unit as values_comparable
    from indicators
),

attained as (
    select
        *,
        case
            when coalesce(target_kind, 'empty') = 'empty' or coalesce(actual_kind, 'empty') = 'empty'
                then 'empty_cell'
            when actual_achieved_wording then 'achieved_wording'
            when target_kind = 'qualitative' and actual_kind = 'qualitative'
                and actual_qualitative = target_qualitative then 'same_wording'
            when target_kind = 'qualitative' and target_value = 0 and actual_kind = 'quantitative'
                then 'none_wording_vs_count'
            when target_kind = 'qualitative' then 'wording_not_comparable'
            when actual_kind <> 'quantitative' then 'actual_not_numeric'
            when coalesce(actual_op, '=') <> '=' then 'actual_has_operator'
            when not units_match then 'units_differ'
            else 'compare_' || target_op_effective
        end as attainment_rule
    from compared
),

outcome as (
    select
        *,
        case attainment_rule
            when 'achieved_wording' then 'met'
            when 'same_wording' then 'met'
            when 'none_wording_vs_count' then case when actual_value = 0 then 'met' else 'not_met' end
            when 'compare_=' then case
                when abs(actual_value - target_value) <= {{ eps }} then 'met'
                when actual_value > target_value then 'exceeded'
                else 'not_met' end
            when 'compare_≥' then case when actual_value >= target_value - {{ eps }} then 'met' else 'not_met' end
            when 'compare_>' then case when actual_value > target_value + {{ eps }} then 'met' else 'not_met' end
            when 'compare_≤' then case when actual_value <= target_value + {{ eps }} then 'met' else 'not_met' end
            when 'compare_<' then case when actual_value < target_value - {{ eps }} then 'met' else 'not_met' end
            else 'not_assessable'
        end as attainment,
        case when values_comparable then {{ rounded('actual_value - target_value', 'indicator_value') }} end as value_difference,
        case when values_comparable and target_value <> 0
            then {{ rounded('actual_value / target_value', 'ratio') }}
        end as achievement_ratio,
        case
            when values_comparable and abs(actual_value - target_value) <= {{ eps }} then 'on_target'
            when values_comparable and actual_value > target_value then 'over_achieved'
            when values_comparable and actual_value < target_value then 'under_achieved'
            when target_kind = 'qualitative' and target_value = 0 and actual_kind = 'quantitative'
                then case when actual_value > 0 then 'over_achieved' else 'on_target' end
            else 'undetermined'
        end as direction,
        case when weight is not null and score is not null then {{ rounded('weight - score', 'score') }} end as points_lost,
        case when weight > 0 and score is not null then {{ rounded('score / weight', 'ratio') }} end as score_ratio
    from attained
),

convention as (
    select
        *,
        case
            when attainment = 'met' and '{{ when_met }}' = 'full' then weight
            when attainment = 'not_met' and values_comparable and '{{ when_missed }}' = 'proportional'
                then {{ rounded('weight * greatest(0, least(1, achievement_share))', 'score') }}
        end as rule_score
    from (
        select
            *,
            -- B/A, or A/B for a ceiling: the share of the target achieved
            case when target_op_effective in ('≤', '<')
                then target_value / nullif(actual_value, 0)
                else actual_value / nullif(target_value, 0)
            end as achievement_share
        from outcome
    )
)

select
    * exclude (achievement_share),
    case when rule_score is not null and score is not null
        then not {{ within_tolerance('score - rule_score', var('score_tolerance')) }}
    end as score_disagrees_with_rule,
    -- audit rule: a point lost needs a reason (偏差原因分析及改进措施)
    coalesce(points_lost > 0 and nullif(trim(deviation_note), '') is null, false) as reason_missing,
    -- exceeded "=" targets are not flagged either way: the rules may or may not penalise the deviation
    case
        when attainment = 'not_met' and points_lost <= 0 then 'full_marks_on_missed_target'
        when attainment = 'met' and points_lost > 0 then 'points_lost_on_met_target'
    end as score_flag_reason,
    case
        when attainment in ('met', 'not_met') and points_lost is not null
            then (attainment = 'not_met' and points_lost <= 0) or (attainment = 'met' and points_lost > 0)
    end as score_disagrees_with_attainment
from convention
