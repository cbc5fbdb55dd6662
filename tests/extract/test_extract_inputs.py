"""Bad input never stops a run: each bad file gives one clear error, good files still come out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from extract import extract_file
from sample_pdfs import write_bad_inputs
from sample_pdfs.bad_inputs import EXPECTED_ERROR_CLASS


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return write_bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", sorted(EXPECTED_ERROR_CLASS))
def test_bad_input_gives_one_classified_error(bad_inputs, kind):
    result = extract_file(bad_inputs[kind])
    assert result.records == []
    assert [e.error_class for e in result.errors] == [EXPECTED_ERROR_CLASS[kind]]
    assert result.errors[0].message
    assert result.errors[0].file == bad_inputs[kind].name


def test_missing_file(tmp_path):
    result = extract_file(tmp_path / "nope.pdf")
    assert [e.error_class for e in result.errors] == ["not_found"]


def test_chinese_name_with_spaces_is_read(bad_inputs):
    result = extract_file(bad_inputs["chinese_name"])
    assert not result.errors and len(result.records) == 1
    assert result.records[0].source.file == "嘉定 区 报告.pdf"


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "extract", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_cli_reports_bad_files_and_still_prints_good_ones(bad_inputs, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for kind in ("corrupt", "encrypted", "chinese_name", "garbled_txt"):
        shutil.copy(bad_inputs[kind], folder / bad_inputs[kind].name)
    proc = _run_cli(folder, "--json")
    assert proc.returncode == 1
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 3
    assert all(line.startswith("error: ") for line in errors)
    assert any("encrypted.pdf: encrypted_pdf" in line for line in errors)
    records = json.loads(proc.stdout)
    assert [r["source"]["file"] for r in records] == ["嘉定 区 报告.pdf"]
    assert {"uncertain_fields", "checks", "source"} <= records[0].keys()

    summary = _run_cli(folder)
    assert summary.returncode == 1
    assert "嘉定 区 报告.pdf: 1 form, 0 checks failed" in summary.stdout
    assert len(summary.stdout.strip().splitlines()) == 4


def test_cli_exit_zero_on_good_input():
    proc = _run_cli("data_raw/pdf/single/jd-04_scrambled.pdf")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("1 form,") == 1
