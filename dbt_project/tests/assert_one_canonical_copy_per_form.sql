-- Every staged report belongs to exactly one printed form with exactly one canonical copy, and the
-- marts count each form once (error: a broken deduplication would double count).
-- Checked in Dagster as a check of dim_reports (a singular test that refs several models is
-- an asset check only where its meta names the model: dagster-dbt's dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'dim_reports'}}}) }}

with staged as (
    select count(*) as n from {{ ref('stg_extract__reports') }}
),

identity as (
    select
        count(*) as n,
        count(*) filter (where is_canonical) as n_canonical,
        count(distinct form_identity) as n_forms
    from {{ ref('int_report_copies_ranked') }}
),

marts as (
    select count(*) as n from {{ ref('dim_reports') }}
)

select s.n as staged, i.n as identified, i.n_canonical, i.n_forms, m.n as in_marts
from staged as s, identity as i, marts as m
where s.n <> i.n or i.n_canonical <> i.n_forms or m.n <> i.n_forms
