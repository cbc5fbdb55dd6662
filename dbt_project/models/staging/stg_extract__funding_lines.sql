-- The four funding lines (项目资金) of each report.
select
    report_id || '-f' || line_no::varchar as funding_line_id,
    report_id,
    line_no,
    line,
    budget_initial,
    budget_full_year,
    executed,
    weight,
    execution_rate_pct,
    score
from {{ source('extract', 'funding_lines') }}
