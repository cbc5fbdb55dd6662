-- One row per staged form (stg_extract__reports) with the applied corrections of the seed
-- `corrections` on top (see int_corrections_resolved); corrected_fields lists the corrected paths.
{{ apply_corrections('reports') }}
