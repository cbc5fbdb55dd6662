-- Projects (项目): a project name within its implementing unit (the same name, e.g. 培训经费, is
-- used by several units for different projects).
{{ config(**group_incremental_config(['project_key'])) }}

select
    project_key,
    min(project_name) as project_name,
    min(implementing_unit) as implementing_unit,
    min(department) as department,
    min(district) as district,
    count(*) as n_reports,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from {{ ref('int_reports_deduplicated') }} as r
where {{ in_groups_to_rebuild(['project_key'], 'r') }}
group by project_key
