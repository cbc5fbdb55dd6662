"""Every module, public function, public class and public method of `extract` has a docstring.

Public: a name without a leading underscore, at module level or in a public class (dunder methods
are Python's, documented by it). Read from the source with `ast`, so nothing is imported or run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import extract

PACKAGE = Path(extract.__file__).parent


def undocumented(source: str, module: str) -> list[str]:
    """Dotted names of the module (when it lacks a docstring), its public functions and classes,
    and the public methods of those classes, that have no docstring."""
    tree = ast.parse(source)
    missing = [] if ast.get_docstring(tree) else [module]
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if node.name.startswith("_"):
            continue
        if not ast.get_docstring(node):
            missing.append(f"{module}.{node.name}")
        if isinstance(node, ast.ClassDef):
            missing += [
                f"{module}.{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                and not item.name.startswith("_")
                and not ast.get_docstring(item)
            ]
    return missing


def test_every_public_name_of_extract_is_documented():
    missing = [
        name
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in undocumented(
            path.read_text(encoding="utf-8"),
            ".".join(("extract", *path.relative_to(PACKAGE).with_suffix("").parts)),
        )
    ]
    assert not missing, f"{len(missing)} public names without a docstring: {missing}"


def test_the_check_finds_what_lacks_a_docstring():
    source = '''"""A module."""

def documented():
    """Yes."""

def bare():
    pass

def _private():
    pass

class Shape:
    """A class."""

    def __init__(self):
        pass

    def area(self):
        return 0

    @property
    def name(self):
        """Its name."""
        return ""

class Bare:
    pass
'''
    assert undocumented(source, "m") == ["m.bare", "m.Shape.area", "m.Bare"]
    assert undocumented("x = 1\n", "m") == ["m"]
