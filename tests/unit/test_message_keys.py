"""Every message key the code uses is in every catalogue (issue 14: "a test fails when any key is
missing from a catalogue").

The code names its sentences by key (``text(lang, "email.reset.title")``, ``invalid(kind,
"field.email")``, ``NotFound("error.not_found_statement")``...). The scan reads every Python file
of the layer and the functions and takes each string literal shaped like a key of a catalogue
section (``error.*``, ``field.*``, ``email.*``...); keys built at run time (f-strings) must be
listed here with every value they can take, or the scan fails too.
"""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest

from exam_results import errors, i18n, models

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "layers" / "common" / "exam_results", ROOT / "functions")


def _domain_errors(cls: type[errors.DomainError] = errors.DomainError) -> list[type[errors.DomainError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _domain_errors(sub)
    return found


# Keys built at run time: the f-string as written -> every key it can become.
DYNAMIC: dict[str, set[str]] = {
    "f'error.{self.code}'": {f"error.{cls.code}" for cls in _domain_errors()},
    "f'format.{s.format}'": {f"format.{value}" for value in typing.get_args(models.Format)},
}


def _key_pattern() -> re.Pattern[str]:
    sections = sorted({key.split(".")[0] for key in i18n.catalogue(i18n.DEFAULT) if "." in key})
    return re.compile(rf"^(?:{'|'.join(map(re.escape, sections))})\.[A-Za-z0-9_.]+$")


def scan(paths: typing.Iterable[Path]) -> tuple[dict[str, list[str]], list[str]]:
    """Key literals (key -> where) and f-strings that build a key, in these files."""
    pattern = _key_pattern()
    literals: dict[str, list[str]] = {}
    built: list[str] = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value):
                literals.setdefault(node.value, []).append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and pattern.match(f"{head.value}x"):
                    built.append(ast.unparse(node))
    return literals, built


def _files() -> list[Path]:
    return [p for root in SOURCES for p in sorted(root.rglob("*.py"))]


def missing(literals: dict[str, list[str]], built: list[str]) -> list[str]:
    problems = [f"f-string key not listed in DYNAMIC: {b}" for b in built if b not in DYNAMIC]
    needed = dict(literals)
    for b in built:
        for key in DYNAMIC.get(b, set()):
            needed.setdefault(key, [b])
    for lang in i18n.languages():
        have = i18n.catalogue(lang)
        problems += [
            f"{lang}.json lacks {key} (used at {', '.join(where)})" for key, where in needed.items() if key not in have
        ]
    return problems


def test_every_key_the_code_uses_is_in_every_catalogue() -> None:
    literals, built = scan(_files())
    assert len(literals) > 60 and "error.not_found_statement" in literals and "email.reset.title" in literals
    assert sorted(built) == sorted(DYNAMIC)  # every listed f-string still exists
    assert missing(literals, built) == []


def test_a_key_missing_from_a_catalogue_is_caught(tmp_path: Path) -> None:
    source = tmp_path / "new_feature.py"
    source.write_text(
        "from exam_results import i18n\n"
        "def f(lang, kind):\n"
        '    return i18n.text(lang, "email.brand_new.title"), i18n.text(lang, f"email.{kind}.title")\n',
        encoding="utf-8",
    )
    literals, built = scan([source])
    problems = missing(literals, built)
    assert "en.json lacks email.brand_new.title (used at new_feature.py:3)" in problems
    assert "it.json lacks email.brand_new.title (used at new_feature.py:3)" in problems
    assert "f-string key not listed in DYNAMIC: f'email.{kind}.title'" in problems


@pytest.mark.parametrize("cls", _domain_errors(), ids=lambda c: c.__name__)
def test_every_domain_error_has_its_sentence_in_every_language(cls: type[errors.DomainError]) -> None:
    for lang in i18n.languages():
        assert i18n.text(lang, f"error.{cls.code}").strip()
