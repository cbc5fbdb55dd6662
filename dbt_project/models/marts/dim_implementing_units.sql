-- Implementing units (实施单位).
{{ config(**group_incremental_config(['implementing_unit'])) }}

select
    implementing_unit,
    min(district) as district,
    min(department) as department,
    count(distinct department) as n_departments,
    count(*) as n_reports,
    count(distinct project_key) as n_projects,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from {{ ref('int_reports_deduplicated') }} as r
where implementing_unit is not null and {{ in_groups_to_rebuild(['implementing_unit'], 'r') }}
group by implementing_unit
