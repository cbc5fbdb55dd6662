"""The code location's definitions, loaded by `dg.load_from_defs_folder` (orchestration/definitions.py):
every module here is imported and the assets, jobs, schedules and sensors it defines are collected;
`resources.py` adds the resources, the executor and the loggers."""
