-- Arithmetic checks of each printed form; check_family groups execution_rate[0..3].
select
    report_id || '-' || check_name as check_id,
    report_id,
    check_name,
    regexp_replace(check_name, '\[\d+\]$', '') as check_family,
    passed,
    expected,
    actual,
    detail
from {{ source('extract', 'checks') }}
