"""Counts in messages for people: "1 form", "2 forms" (the summary, progress lines, the CLI)."""

from __future__ import annotations

IRREGULAR = {"copy": "copies"}  # plurals that are not noun + "s"


def counted(n: object, noun: str) -> str:
    """`n` and `noun`, plural unless n is 1: "1 form", "2 forms", "0 copies", "? files" (a count
    that could not be read)."""
    return f"{n} {noun if n == 1 else IRREGULAR.get(noun, noun + 's')}"
