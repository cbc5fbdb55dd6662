"""Where the tests find the repository, its sample data and their fixtures (one place)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
GOLD_PATH = FIXTURES / "reports.json"
DATA_RAW = REPO / "data_raw"
DBT_PROJECT = REPO / "dbt_project"
