-- One row per staged indicator (stg_extract__indicators) with the applied corrections of the seed
-- `corrections` on top (see int_corrections_resolved); corrected_fields lists the corrected paths.
{{ apply_corrections('indicators') }}
