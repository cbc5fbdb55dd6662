-- Every item of a canonical form that lost points (a funding line or an indicator with
-- 分值 − 得分 > 0) is exactly one row of fct_deductions with that loss, and fct_deductions holds
-- nothing else: the reason-category join neither drops nor doubles a deduction.
-- Checked in Dagster as a check of fct_deductions (a singular test that refs several models is
-- an asset check only where its meta names the model: dagster-dbt's dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'fct_deductions'}}}) }}

with items as (
    select report_id, 'funding_execution' as source, line_no as item_no, points_lost
    from {{ ref('fct_funding_execution') }}
    where points_lost > 0 and {{ in_reports_to_rebuild('report_id') }}
    union all
    select report_id, 'indicator', indicator_no, points_lost
    from {{ ref('fct_indicator_outcomes') }}
    where points_lost > 0 and {{ in_reports_to_rebuild('report_id') }}
),

deductions as (
    select report_id, source, item_no, count(*) as n_rows, sum(points_lost) as points_lost
    from {{ ref('fct_deductions') }}
    where {{ in_reports_to_rebuild('report_id') }}
    group by report_id, source, item_no
)

select
    coalesce(i.report_id, d.report_id) as report_id,
    coalesce(i.source, d.source) as source,
    coalesce(i.item_no, d.item_no) as item_no,
    i.points_lost as item_points_lost,
    d.points_lost as deducted,
    d.n_rows
from items as i
full outer join deductions as d
    on d.report_id = i.report_id and d.source = i.source and d.item_no = i.item_no
where i.report_id is null or d.report_id is null or d.n_rows <> 1 or d.points_lost <> i.points_lost
