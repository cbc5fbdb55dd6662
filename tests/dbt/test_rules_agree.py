"""The dbt project and the Python code declare some things twice on purpose (the Python side never
reads dbt at run time); these tests hold the two declarations equal, without building anything:

- the tolerances (dbt_project.yml `vars:`) and grade bands (seeds/grade_bands.csv) against
  extract.validate, which checks the form's arithmetic at extraction; the decimals of an amount
  against extract.vocabulary, which converts amounts to 万元;
- the landing tables: orchestration.staging.TABLES (what Python writes), the dbt sources'
  columns (models/staging/_sources.yml) and the staging views' enforced contracts
  (models/staging/_staging.yml): names, order and types;
- the check families Python writes and the ones the models accept;
- the exposures: the exports read every mart.
"""

from __future__ import annotations

import csv
import re

import pytest
import yaml
from paths import DBT_PROJECT

from extract import validate, vocabulary
from orchestration.staging import CHECK_FAMILIES, SCHEMA, TABLES

STAGING = DBT_PROJECT / "models" / "staging"
MARTS = DBT_PROJECT / "models" / "marts"
# the staging views add a surrogate key (and the checks their family) to the landed columns
DERIVED_COLUMNS = {
    "stg_extract__reports": [],
    "stg_extract__funding_lines": [("funding_line_id", "VARCHAR")],
    "stg_extract__indicators": [("indicator_id", "VARCHAR")],
    "stg_extract__checks": [("check_id", "VARCHAR"), ("check_family", "VARCHAR")],
    "stg_extract__errors": [],
}
SOURCE_OF = {
    "stg_extract__reports": "reports",
    "stg_extract__funding_lines": "funding_lines",
    "stg_extract__indicators": "indicators",
    "stg_extract__checks": "checks",
    "stg_extract__errors": "extract_errors",
}


def _yaml(path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _project_vars() -> dict:
    return _yaml(DBT_PROJECT / "dbt_project.yml")["vars"]


def _columns(node: dict) -> list[tuple[str, str]]:
    return [(c["name"], c.get("data_type")) for c in node.get("columns", [])]


# ------------------------------------------------------------------ rules


def test_tolerances_are_the_same_in_python_and_dbt():
    found = _project_vars()
    assert found["score_tolerance"] == validate.SCORE_TOLERANCE
    assert found["rate_tolerance_pct"] == validate.RATE_TOLERANCE_PCT
    macro = (DBT_PROJECT / "macros" / "rules.sql").read_text(encoding="utf-8")
    noise = re.search(r"macro float_noise\(\)\s*-%}\s*([0-9.e-]+)", macro).group(1)
    assert float(noise) == validate.FLOAT_NOISE


def test_amount_decimals_are_the_same_in_python_and_dbt():
    # an amount printed in 元 keeps its 分 in 万元: the warehouse must not round its sums coarser
    assert _project_vars()["decimals"]["amount"] == vocabulary.WAN_DECIMALS
    yuan = vocabulary.FundingUnit("元", vocabulary.FUNDING_UNITS["元"])
    assert vocabulary.to_wan(1_185_432.17, yuan) == 118.543217


def test_grade_bands_are_the_same_in_python_and_the_seed():
    with open(DBT_PROJECT / "seeds" / "grade_bands.csv", encoding="utf-8", newline="") as fh:
        seed = [
            (r["grade"], float(r["min_score"] or "-inf"), float(r["max_score_exclusive"] or "inf"))
            for r in csv.DictReader(fh)
        ]
    floors = sorted(((grade, floor) for grade, floor, _ in seed), key=lambda band: -band[1])
    assert tuple(floors) == validate.GRADE_BANDS
    for score in [s / 100 for s in range(0, 10001, 1)]:
        in_seed = [grade for grade, low, high in seed if low <= score < high]
        assert in_seed == [validate.expected_grade(score)], score


def test_convention_vars_are_set_to_what_the_models_accept():
    found = _project_vars()
    assert found["indicator_score_when_met"] in ("full", "unchecked")
    assert found["indicator_score_when_missed"] in ("proportional", "unchecked")
    assert found["funding_score_convention"] in ("capped", "uncapped")


def test_no_model_repeats_a_var_default():
    """A rule's value lives in dbt_project.yml only: no `var(name, default)` in the models."""
    for path in DBT_PROJECT.rglob("*.sql"):
        if "target" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"var\(\s*'[^']+'\s*,", text), path


# ------------------------------------------------------------------ one staging contract


def test_sources_declare_the_tables_python_writes():
    (source,) = _yaml(STAGING / "_sources.yml")["sources"]
    assert source["schema"] == SCHEMA
    tables = {t["name"]: _columns(t) for t in source["tables"]}
    assert tables == {name: [(c, t) for c, t in columns] for name, columns in TABLES.items()}


@pytest.mark.parametrize("model", sorted(SOURCE_OF))
def test_staging_contracts_are_the_sources_plus_their_keys(model):
    models = {m["name"]: m for m in _yaml(STAGING / "_staging.yml")["models"]}
    declared = _columns(models[model])
    landed = [(c, t) for c, t in TABLES[SOURCE_OF[model]]]
    derived = DERIVED_COLUMNS[model]
    assert sorted(declared) == sorted(landed + derived)
    assert [c for c in declared if c in landed] == landed  # in the landed order
    sql = (STAGING / f"{model}.sql").read_text(encoding="utf-8")
    assert f"source('extract', '{SOURCE_OF[model]}')" in sql


def test_staging_contracts_are_enforced():
    config = _yaml(DBT_PROJECT / "dbt_project.yml")["models"]["fiscal_perf"]["staging"]
    assert config["+contract"] == {"enforced": True}


def test_check_families_are_the_ones_the_models_accept():
    models = {m["name"]: m for m in _yaml(STAGING / "_staging.yml")["models"]}
    family = next(c for c in models["stg_extract__checks"]["columns"] if c["name"] == "check_family")
    accepted = family["data_tests"][0]["accepted_values"]["arguments"]["values"]
    assert sorted(accepted) == sorted(CHECK_FAMILIES)
    marts = {m["name"]: m for m in _yaml(MARTS / "_marts.yml")["models"]}
    quality = next(c for c in marts["mart_report_quality"]["columns"] if c["name"] == "check_family")
    in_mart = quality["data_tests"][0]["accepted_values"]["arguments"]["values"]
    assert set(CHECK_FAMILIES) <= set(in_mart)


# ------------------------------------------------------------------ exposures


def test_the_exports_read_every_mart_and_the_report_reads_marts():
    exposures = {e["name"]: e for e in _yaml(MARTS / "_exposures.yml")["exposures"]}
    assert set(exposures) == {"mart_exports", "warehouse_report"}
    marts = {p.stem for p in MARTS.glob("*.sql")}
    refs = {
        name: {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in e["depends_on"]}
        for name, e in exposures.items()
    }
    assert refs["mart_exports"] == marts
    assert refs["warehouse_report"] == {
        "fct_funding_execution",
        "fct_deductions",
        "fct_indicator_outcomes",
        "mart_report_quality",
        "dim_reports",
    }
    assert (exposures["mart_exports"]["type"], exposures["warehouse_report"]["type"]) == (
        "application",
        "dashboard",
    )
