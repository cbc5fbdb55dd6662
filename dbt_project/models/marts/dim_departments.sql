-- Supervising departments (主管部门), named without the "（汇总）" suffix.

select
    department,
    min(district) as district,
    min(city) as city,
    list(distinct supervising_dept order by supervising_dept) as printed_names,
    count(*) as n_reports,
    count(distinct implementing_unit) as n_implementing_units,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from {{ ref('int_reports_deduplicated') }}
where department is not null
group by department
