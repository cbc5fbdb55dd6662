-- One row per performance indicator (绩效指标) with its parsed target/actual and attainment.
{{ config(**report_incremental_config()) }}

select
    i.report_id,
    i.indicator_no,
    r.fiscal_year,
    r.district,
    r.department,
    r.implementing_unit,
    r.project_key,
    r.project_name,
    i.level1,
    i.level2,
    i.level3,
    i.target,
    i.target_kind,
    i.target_op,
    i.target_op_effective,
    i.target_value,
    i.target_unit,
    i.target_qualitative,
    i.actual,
    i.actual_kind,
    i.actual_op,
    i.actual_value,
    i.actual_unit,
    i.actual_qualitative,
    i.actual_achieved_wording,
    case
        when i.target_kind = 'quantitative' then 'quantitative'
        when i.target_kind = 'qualitative' then 'qualitative'
        else 'empty'
    end as kind,
    i.units_match,
    i.values_comparable,
    i.attainment_rule,
    i.attainment,
    i.value_difference,
    i.achievement_ratio,
    i.direction,
    i.weight,
    i.score,
    i.points_lost,
    i.score_ratio,
    i.rule_score,
    i.score_disagrees_with_rule,
    i.deviation_note,
    i.reason_missing,
    i.score_disagrees_with_attainment,
    i.score_flag_reason,
    i.page,
    i.corrected_fields
from {{ ref('int_indicators_assessed') }} as i
inner join {{ ref('int_reports_deduplicated') }} as r on r.report_id = i.report_id
where {{ in_reports_to_rebuild('i.report_id') }}
