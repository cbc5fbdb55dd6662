-- One row per staged funding line (stg_extract__funding_lines) with the applied corrections of the seed
-- `corrections` on top (see int_corrections_resolved); corrected_fields lists the corrected paths.
{{ apply_corrections('funding_lines') }}
