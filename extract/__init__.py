"""Read 财政项目支出绩效自评表 reports (PDF, text dump, Excel or Word original) into canonical records.

Plain Python with no Dagster import: the orchestration layer and the CLI both call `extract_file`.
"""

from .api import extract_file, iter_report_files, kind_of, sha256_file
from .record import Check, ExtractError, FileResult, FundingLine, Indicator, Record, Source

__all__ = [
    "Check",
    "ExtractError",
    "FileResult",
    "FundingLine",
    "Indicator",
    "Record",
    "Source",
    "extract_file",
    "iter_report_files",
    "kind_of",
    "sha256_file",
]
