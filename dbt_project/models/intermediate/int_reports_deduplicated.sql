-- One row per printed form (the canonical copy, see int_report_copies_ranked), with the
-- dimensions the marts group by: district (区), department, implementing unit, project. A table,
-- not a view (every mart reads it; computed once), keyed by report_id like the marts it feeds.
{{ config(**report_incremental_config()) }}

with reports as (
    select * from {{ ref('int_reports_corrected') }}
),

identity as (
    select * from {{ ref('int_report_copies_ranked') }}
),

corrections as (
    -- every applied correction of the form: its own fields, its funding lines' and indicators'
    select report_id, list(field_path order by field_path) as corrected_fields
    from {{ ref('int_corrections_resolved') }}
    where status = 'applied'
    group by report_id
),

duplicates as (
    select
        i.canonical_report_id,
        list(i.report_id order by i.copy_rank) filter (where not i.is_canonical) as duplicate_report_ids,
        -- every name of each copy (the same bytes under several names: source_files), copy by copy
        flatten(list(r.source_files order by i.copy_rank) filter (where not i.is_canonical))
            as duplicate_source_files
    from identity as i
    inner join reports as r on r.report_id = i.report_id
    where {{ in_reports_to_rebuild('i.canonical_report_id') }}
    group by i.canonical_report_id
),

named as (
    select
        r.*,
        -- 主管部门 without the "（汇总）" (summary) suffix some departments print
        nullif(trim(regexp_replace(r.supervising_dept, '[（(]汇总[)）]$', '')), '') as department,
        {{ district_of('r.supervising_dept') }} as district_from_dept,
        {{ district_of('r.implementing_unit') }} as district_from_unit,
        {{ city_of('r.supervising_dept') }} as city_from_dept,
        {{ city_of('r.implementing_unit') }} as city_from_unit
    from reports as r
)

select
    n.report_id,
    i.form_identity,
    n.fiscal_year,
    coalesce(n.city_from_dept, n.city_from_unit) as city,
    coalesce(n.district_from_dept, n.district_from_unit) as district,
    n.supervising_dept,
    n.department,
    n.implementing_unit,
    n.project_name,
    substr(md5(concat_ws('|', coalesce(n.implementing_unit, n.department, '∅'), coalesce(n.project_name, '∅'))), 1, 16)
        as project_key,
    n.total_weight,
    n.total_score,
    n.grade,
    n.n_indicators,
    n.goal_expected,
    n.goal_actual,
    n.source_kind,
    n.source_file,
    n.source_files,
    n.sha256,
    n.form_index,
    n.pages,
    n.uncertain_fields,
    n.checks_failed,
    n.failed_check_names,
    coalesce(c.corrected_fields, []::varchar[]) as corrected_fields,
    i.n_copies,
    coalesce(d.duplicate_report_ids, []::varchar[]) as duplicate_report_ids,
    coalesce(d.duplicate_source_files, []::varchar[]) as duplicate_source_files
from named as n
inner join identity as i on i.report_id = n.report_id
left join duplicates as d on d.canonical_report_id = n.report_id
left join corrections as c on c.report_id = n.report_id
where i.is_canonical and {{ in_reports_to_rebuild('n.report_id') }}
