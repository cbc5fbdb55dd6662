-- One row per printed form (report key = report_id of its canonical copy).
{{ config(**report_incremental_config()) }}

with reports as (
    select * from {{ ref('int_reports_deduplicated') }}
    where {{ in_reports_to_rebuild('report_id') }}
),

bands as (
    select * from {{ ref('grade_bands') }}
)

select
    r.report_id,
    r.form_identity,
    r.fiscal_year,
    r.city,
    r.district,
    r.supervising_dept,
    r.department,
    r.implementing_unit,
    r.project_key,
    r.project_name,
    r.total_weight,
    r.total_score,
    {{ rounded('r.total_weight - r.total_score', 'score') }} as points_lost,
    r.grade,
    b.grade as band_grade,
    r.n_indicators,
    r.goal_expected,
    r.goal_actual,
    r.source_kind,
    r.source_file,
    r.source_files,
    r.sha256,
    r.form_index,
    r.pages,
    r.uncertain_fields,
    r.checks_failed,
    r.failed_check_names,
    r.corrected_fields,
    r.n_copies,
    r.duplicate_report_ids,
    r.duplicate_source_files
from reports as r
left join bands as b
    on (b.min_score is null or r.total_score >= b.min_score)
    and (b.max_score_exclusive is null or r.total_score < b.max_score_exclusive)
