-- Each report's deduction shares add up to 1 (error: this is the marts' own arithmetic).
select report_id, sum(share_of_report_loss) as total_share
from {{ ref('fct_deductions') }}
group by report_id
having abs(sum(share_of_report_loss) - 1) > 0.001
