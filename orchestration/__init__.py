"""Dagster code location of the fiscal performance warehouse.

report files → extracted records → DuckDB staging tables → dbt models → published warehouse.
`extract/` stays plain Python; everything Dagster- and warehouse-specific lives here.
"""
