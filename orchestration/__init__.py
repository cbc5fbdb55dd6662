"""Dagster code location of the fiscal performance warehouse.

report files → extraction store → DuckDB landing tables → dbt models → published warehouse.
Dagster definitions live in `defs/` (loaded by `definitions.py`); the modules beside it hold what
the steps, the launchers and the benchmarks share (most of them without importing Dagster).
`extract/` stays plain Python; everything Dagster- and warehouse-specific lives here.
"""
