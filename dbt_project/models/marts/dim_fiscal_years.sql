-- Fiscal years (年度) the forms report on.

select
    fiscal_year,
    count(*) as n_reports,
    count(distinct district) as n_districts,
    count(distinct department) as n_departments,
    count(distinct implementing_unit) as n_implementing_units
from {{ ref('int_reports_deduplicated') }}
where fiscal_year is not null
group by fiscal_year
