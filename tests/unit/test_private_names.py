"""No module of the service, its functions, devtools, benchmarks or scripts uses another module's private name
(``from x import _y``, or ``x._y`` on an imported module): what modules share is public."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("layers", "functions", "devtools", "benchmarks", "scripts")
PACKAGE_ROOTS = (ROOT / "layers" / "common", ROOT)  # where exam_results and devtools are imported from


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(path: Path) -> str:
    """The dotted package a module file is in ("" when it is not under a package root)."""
    for root in PACKAGE_ROOTS:
        if path.is_relative_to(root):
            parts = path.relative_to(root).with_suffix("").parts
            return ".".join(parts[:-1])  # a package's __init__ is in the package itself
    return ""


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that is not a package, a name that is a class
        return False


def private_uses(source: str, package: str = "") -> list[str]:
    """``line: what`` for each private name ``source`` takes from another module."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: set[str] = set()  # local names bound to imported modules
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}")
                elif _is_module(f"{base}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute) and not _private(root.attr):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_uses_another_modules_private_names() -> None:
    offenders = []
    for top in CHECKED:
        for path in sorted((ROOT / top).rglob("*.py")):
            for use in private_uses(path.read_text(), _package_of(path)):
                offenders.append(f"{path.relative_to(ROOT)}:{use}")
    assert offenders == []


def test_the_check_finds_each_form_and_leaves_public_and_own_names_alone() -> None:
    source = """
import json
import exam_results.files.duplicates as dups
from exam_results.files import duplicates
from exam_results.files.reader import read_rows, _columns
from .duplicates import _id_key
from exam_results.files.duplicates import DuplicateIds

json._default_decoder
dups._id_key
duplicates._ID_KEY_OFFSET.count
DuplicateIds._sorted
duplicates.DuplicateIds.__name__
self._own
_local._x
"""
    assert private_uses(source, "exam_results.files") == [
        "5: from exam_results.files.reader import _columns",
        "6: from .duplicates import _id_key",
        "9: json._default_decoder",
        "10: dups._id_key",
        "11: duplicates._ID_KEY_OFFSET",
    ]
