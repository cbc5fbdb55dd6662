-- One row per form (绩效自评表), as extracted. Thin view over the staged table.
select
    report_id,
    sha256,
    form_index,
    source_file,
    source_files,
    source_kind,
    pages,
    fiscal_year,
    project_name,
    supervising_dept,
    implementing_unit,
    goal_expected,
    goal_actual,
    total_weight,
    total_score,
    grade,
    n_indicators,
    uncertain_fields,
    checks_failed,
    failed_check_names
from {{ source('extract', 'reports') }}
