-- Finding (warn): corrections (seed `corrections`) that are not applied — stale (the form they
-- correct was re-read with other content: its content-keyed report_id is gone), an invalid field
-- path or value, or two corrections of one field on the same day. See marts.mart_corrections.
{{ config(severity='warn') }}

select report_id, field_path, status, corrected_value, corrected_by, corrected_on
from {{ ref('mart_corrections') }}
where status not in ('applied', 'superseded')
