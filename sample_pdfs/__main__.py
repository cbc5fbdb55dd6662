"""`python -m sample_pdfs [--out data_raw/pdf] [--records tests/fixtures/reports.json]`

Renders the sample corpus: one department PDF per district in its own producer style, and
single-form PDFs in the other styles (each style gets at least one multi-page form).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .draw import render_pdf
from .style import STYLES

# (file name, record keys, style); "jd*" means every jd- record in file order.
CORPUS: tuple[tuple[str, str, str], ...] = (
    ("jiading_2024_人社局_lattice.pdf", "jd*", "lattice"),
    ("songjiang_2024_人社局_scrambled.pdf", "sj*", "scrambled"),
    ("single/jd-07_scrambled.pdf", "jd-07", "scrambled"),
    ("single/jd-04_scrambled.pdf", "jd-04", "scrambled"),
    ("single/sj-04_lattice.pdf", "sj-04", "lattice"),
    ("single/jd-01_lattice_compact.pdf", "jd-01", "lattice_compact"),
    ("single/jd-07_lattice_compact.pdf", "jd-07", "lattice_compact"),
    ("single/jd-05_hrules_ordered.pdf", "jd-05", "hrules_ordered"),
    ("single/sj-02_hrules_ordered.pdf", "sj-02", "hrules_ordered"),
)


def select(records: list[dict], keys: str) -> list[dict]:
    if keys.endswith("*"):
        return [r for r in records if r["key"].startswith(keys[:-1])]
    return [r for r in records if r["key"] == keys]


def render_corpus(records: list[dict], out: Path) -> list[Path]:
    written = []
    for name, keys, style in CORPUS:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        chosen = select(records, keys)
        if not chosen:
            raise SystemExit(f"no record matches {keys!r} for {name}")
        render_pdf(chosen, path, STYLES[style])
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sample_pdfs", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("data_raw/pdf"))
    parser.add_argument("--records", type=Path, default=Path("tests/fixtures/reports.json"))
    parser.add_argument("--bad-inputs", type=Path, help="also write malformed inputs to this directory")
    args = parser.parse_args(argv)
    records = json.loads(args.records.read_text(encoding="utf-8"))
    start = time.perf_counter()
    for path in render_corpus(records, args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    if args.bad_inputs:
        from .bad_inputs import write_bad_inputs

        for kind, path in write_bad_inputs(args.bad_inputs).items():
            print(f"{path}  ({kind})")
    print(f"rendered in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
