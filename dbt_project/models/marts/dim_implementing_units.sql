-- Implementing units (实施单位).

select
    implementing_unit,
    min(district) as district,
    min(department) as department,
    count(distinct department) as n_departments,
    count(*) as n_reports,
    count(distinct project_key) as n_projects,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from {{ ref('int_reports_deduplicated') }}
where implementing_unit is not null
group by implementing_unit
