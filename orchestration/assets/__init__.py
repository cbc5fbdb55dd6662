"""Asset definitions, one module per stage: files → extraction → staging → dbt → publish."""
