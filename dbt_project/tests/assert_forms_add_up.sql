-- Finding (warn): printed forms whose own arithmetic does not add up, as extraction checked it
-- (extract/validate.py → raw.checks → mart_report_quality). The form is still loaded.
{{ config(severity='warn') }}

select report_id, project_name, source_file, check_name, printed_value, expected_value, detail
from {{ ref('mart_report_quality') }}
where check_source = 'extraction' and not passed
