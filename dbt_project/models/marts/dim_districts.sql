-- Districts (区) found in the department / unit names.

select
    district,
    min(city) as city,
    count(*) as n_reports,
    count(distinct department) as n_departments,
    count(distinct implementing_unit) as n_implementing_units,
    min(fiscal_year) as first_fiscal_year,
    max(fiscal_year) as last_fiscal_year
from {{ ref('int_reports_deduplicated') }}
where district is not null
group by district
