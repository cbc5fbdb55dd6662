-- Two forms of the same year, department, unit and project that were NOT merged as copies of one
-- form because their totals or 年度资金总额 amounts differ: two readers read the same form
-- differently, so one of them is wrong and the marts would count the form twice (error: nothing
-- is published). Compare the listed files; settle the misread value in seeds/corrections.csv (the
-- copies then merge again).

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
