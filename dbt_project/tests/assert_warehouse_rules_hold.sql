-- Finding (warn): forms that break a rule of the warehouse — a score that does not follow the
-- scoring convention in use, a point lost without a reason (偏差原因分析及改进措施), deductions that do
-- not sum to the points lost (see mart_report_quality, check_source 'warehouse').
{{ config(severity='warn') }}

select report_id, project_name, source_file, check_name, printed_value, expected_value, detail
from {{ ref('mart_report_quality') }}
where check_source = 'warehouse' and not passed
