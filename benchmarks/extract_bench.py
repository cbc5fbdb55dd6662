"""Extraction cost beside bare pdfplumber: pages per second and peak memory.

    python benchmarks/extract_bench.py [PDF ...]      (default: data_raw/pdf and a long generated PDF)

Each measurement runs in a fresh process so peak RSS belongs to it alone. Goals (issue 3): at most
1.5x bare `extract_words` time; memory flat in the number of pages. Prints figures; asserts nothing.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _measure(mode: str, paths: list[str]) -> dict:
    """Child side: time one mode over the files and report pages, seconds and peak RSS."""
    import pdfplumber

    from extract.pdf.reader import read_pdf

    pages = 0
    if mode == "extract":  # counted before the clock starts: extraction itself never needs it
        for path in paths:
            with pdfplumber.open(path) as pdf:
                pages += len(pdf.pages)
    start = time.perf_counter()
    for path in paths:
        if mode == "pdfplumber":
            with pdfplumber.open(path) as pdf:
                for page in pdf.pages:
                    page.extract_words()
                    page.close()
                    pages += 1
        else:
            read_pdf(Path(path), "bench")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "pages": pages, "seconds": seconds, "peak_mb": peak_mb}


def run(mode: str, paths: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, *paths],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout)


def long_pdf(folder: Path, copies: int) -> str:
    """The sample forms repeated `copies` times in one lattice PDF (about 28 pages per copy)."""
    from sample_pdfs import STYLES, render_pdf

    records = json.loads((ROOT / "tests/fixtures/reports.json").read_text(encoding="utf-8"))
    path = folder / f"long_{copies}.pdf"
    render_pdf(records * copies, path, STYLES["lattice"])
    return str(path)


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(ROOT))  # extract and sample_pdfs (not installed) from the repository
    if argv[:1] == ["--child"]:
        print(json.dumps(_measure(argv[1], argv[2:])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        sets = (
            {"data_raw/pdf": [str(p) for p in sorted((ROOT / "data_raw/pdf").rglob("*.pdf"))]}
            if not argv
            else {"given": argv}
        )
        if not argv:
            for copies in (2, 8):
                sets[f"generated x{copies}"] = [long_pdf(Path(tmp), copies)]
        print(f"{'corpus':<16}{'mode':<12}{'pages':>7}{'pages/s':>10}{'peak MB':>10}{'time ratio':>12}")
        for name, paths in sets.items():
            bare = run("pdfplumber", paths)
            ours = run("extract", paths)
            for r in (bare, ours):
                ratio = r["seconds"] / bare["seconds"]
                print(
                    f"{name:<16}{r['mode']:<12}{r['pages']:>7}{r['pages'] / r['seconds']:>10.1f}"
                    f"{r['peak_mb']:>10.1f}{ratio:>12.2f}"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
