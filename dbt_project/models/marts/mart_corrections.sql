-- Every correction of the seed `corrections`: what it changes (the extracted and the corrected
-- value), who made it and why, and whether it is applied. A stale correction names a report_id no
-- staged form has any more (the form's file changed or is gone): re-check it against the new reading.

select
    c.report_id,
    c.field_path,
    c.status,
    c.extracted_value,
    c.corrected_value,
    c.data_type,
    c.corrected_by,
    c.reason,
    c.corrected_on,
    r.project_name,
    r.implementing_unit,
    r.fiscal_year,
    r.source_file,
    i.is_canonical as on_canonical_copy
from {{ ref('int_corrections_resolved') }} as c
left join {{ ref('int_reports_corrected') }} as r on r.report_id = c.report_id
left join {{ ref('int_report_copies_ranked') }} as i on i.report_id = c.report_id
