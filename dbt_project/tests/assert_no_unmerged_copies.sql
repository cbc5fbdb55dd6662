-- Finding (warn): two forms of the same year, department, unit and project that were NOT merged as
-- copies of one form because their totals or 年度资金总额 amounts differ. Either the unit really
-- published two such forms, or two readers read the same form differently: then one of them is
-- wrong and the marts count the form twice. Compare the listed files.
{{ config(severity='warn') }}

select
    fiscal_year,
    department,
    implementing_unit,
    project_name,
    count(*) as n_forms,
    list(report_id order by report_id) as report_ids,
    list(source_file order by report_id) as source_files,
    list(total_score order by report_id) as total_scores
from {{ ref('dim_reports') }}
group by fiscal_year, department, implementing_unit, project_name
having count(*) > 1
