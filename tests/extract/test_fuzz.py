"""Byte-mutation fuzzing of `extract_file` over the sample PDFs (data_raw/pdf/single/*.pdf).

A seeded set of mutants — bit flips, truncations, deleted, duplicated and zeroed byte ranges — of
each sample, as published (compressed streams) and with its streams inflated (so that mutations
land in the page content itself: text, positions, rules). Each mutant is read in a bounded worker
process (orchestration.workers: a per-case time limit, a memory limit). Nothing but records or
recorded errors may come out: no exception, no crash, no hang; every record carries its checks and
every error a known class and a message. An error the readers did not classify themselves (an
exception caught by a catch-all: "unexpected …", "layout not understood: …") fails the test too:
it is a case the readers should name.
"""

from __future__ import annotations

import base64
import random
import re
import traceback
import zlib
from dataclasses import dataclass

import pytest
from conftest import SAMPLES_DIR

from extract import extract_file
from extract.record import ERROR_CLASSES
from orchestration.workers import Limits, run_bounded

SAMPLES = sorted((SAMPLES_DIR / "pdf" / "single").glob("*.pdf"))
MUTANTS = 40
SEED = 20250601
CASE_LIMITS = Limits(timeout_s=60, memory_mb=1024)  # a sample reads in ~0.2 s and ~70 MB
# messages of the catch-alls in extract/api.py and extract/pdf/reader.py
UNCLASSIFIED = ("unexpected ", "layout not understood")

_OBJECT = re.compile(rb"(\d+) 0 obj\r?\n(.*?)\r?\nendobj\r?\n", re.S)
_STREAM = re.compile(rb"^(.*?)\r?\nstream\r?\n(.*?)(?:\r?\n)?endstream$", re.S)


def inflate(pdf: bytes) -> bytes:
    """The same PDF with its ASCII85/Flate streams stored decoded, and a rebuilt xref table
    (for the regular files reportlab writes: numbered objects, one xref section, one trailer)."""
    objects = []
    for match in _OBJECT.finditer(pdf):
        number, body = int(match.group(1)), match.group(2)
        stream = _STREAM.match(body)
        if stream and b"/Filter" in stream.group(1):
            head, data = stream.groups()
            if b"/ASCII85Decode" in head:
                data = base64.a85decode(data.strip(), adobe=True)
            if b"/FlateDecode" in head:
                data = zlib.decompress(data)
            head = re.sub(rb"/Filter\s*(\[[^\]]*\]|/\w+)", b"", head)
            head = re.sub(rb"/Length \d+", b"/Length %d" % len(data), head)
            body = head + b"\nstream\n" + data + b"\nendstream"
        objects.append((number, body))
    trailer = re.search(rb"trailer\s*(<<.*?>>)\s*startxref", pdf, re.S).group(1)
    out = bytearray(pdf[: pdf.index(b"\n") + 1])  # the %PDF-1.x header line
    offsets = {}
    for number, body in objects:
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    size = max(offsets) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets.get(n, 0) for n in range(1, size))
    out += b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    data: bytes


def mutate(base: bytes, rng: random.Random) -> tuple[str, bytes]:
    data = bytearray(base)
    kind = rng.choice(["bit_flips", "truncate", "delete", "duplicate", "zero"])
    if kind == "bit_flips":
        positions = sorted(rng.randrange(len(data)) for _ in range(rng.randint(1, 8)))
        for position in positions:
            data[position] ^= 1 << rng.randrange(8)
        return f"bit flips at {positions}", bytes(data)
    if kind == "truncate":
        cut = rng.randrange(len(data))
        return f"truncated to {cut} bytes", bytes(data[:cut])
    start = rng.randrange(len(data))
    length = rng.randint(1, 256)
    end = min(len(data), start + length)
    if kind == "delete":
        return f"bytes {start}:{end} deleted", bytes(data[:start] + data[end:])
    if kind == "duplicate":
        return f"bytes {start}:{end} duplicated", bytes(data[:end] + data[start:end] + data[end:])
    data[start:end] = bytes(end - start)
    return f"bytes {start}:{end} zeroed", bytes(data)


def mutants(count: int = MUTANTS, seed: int = SEED) -> list[Mutant]:
    bases = []
    for path in SAMPLES:
        raw = path.read_bytes()
        bases += [(path.stem, raw), (f"{path.stem}.inflated", inflate(raw))]
    rng = random.Random(seed)
    out = []
    for i in range(count):
        stem, base = bases[i % len(bases)]
        description, data = mutate(base, rng)
        out.append(Mutant(f"m{i:03d}-{stem}.pdf", f"{stem}: {description}", data))
    return out


# Run in a bounded worker process (imported there by name).
def read_case(path: str) -> dict:
    """extract_file on one file, summarized; an exception escaping it is reported, not raised."""
    try:
        result = extract_file(path)
    except BaseException:  # noqa: BLE001 - exactly what the test looks for
        return {"raised": traceback.format_exc()}
    return {
        "records": [len(record.checks) for record in result.records],
        "errors": [(e.file, e.error_class, e.message) for e in result.errors],
    }


def test_inflated_samples_read_like_the_originals(tmp_path):
    """The fuzzing bases are faithful: an inflated sample gives the same records as the original."""
    for path in SAMPLES[:2]:
        inflated = tmp_path / path.name
        inflated.write_bytes(inflate(path.read_bytes()))
        assert b"/FlateDecode" not in inflated.read_bytes()
        original, copy = extract_file(path), extract_file(inflated)
        assert copy.records and not copy.errors
        assert [r.to_dict() | {"source": None} for r in copy.records] == [
            r.to_dict() | {"source": None} for r in original.records
        ]


@pytest.mark.skipif(not SAMPLES, reason="no sample PDFs")
def test_mutated_pdfs_give_records_or_recorded_errors_only(tmp_path):
    cases = mutants()
    paths = []
    for mutant in cases:
        path = tmp_path / mutant.name
        path.write_bytes(mutant.data)
        paths.append(str(path))
    failures = []
    outcomes = dict(run_bounded(read_case, paths, CASE_LIMITS, max_workers=2))
    assert sorted(outcomes) == list(range(len(cases)))
    for index, outcome in sorted(outcomes.items()):
        mutant = cases[index]
        where = f"{mutant.name} ({mutant.description})"
        if outcome.kind != "ok":
            failures.append(f"{where}: {outcome.kind} {outcome.value!r}")
            continue
        summary = outcome.value
        if "raised" in summary:
            failures.append(f"{where}: extract_file raised\n{summary['raised']}")
            continue
        if not summary["records"] and not summary["errors"]:
            failures.append(f"{where}: neither a record nor an error")
        if any(n_checks == 0 for n_checks in summary["records"]):
            failures.append(f"{where}: a record without checks")
        for file, error_class, message in summary["errors"]:
            if error_class not in ERROR_CLASSES or not message or file != mutant.name:
                failures.append(f"{where}: malformed error {(file, error_class, message)}")
            if message.startswith(UNCLASSIFIED):
                failures.append(f"{where}: an exception no reader classified: {error_class}: {message}")
    assert not failures, "\n".join(failures)
