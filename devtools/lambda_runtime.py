"""What a Lambda function's process can import besides its code and layers: the python3.13
runtime's own packages (boto3 and its dependencies), as a directory of links into this virtual
environment, so that a process given only that on ``sys.path`` (``python -I -S``) sees no
development package. Used by ``tests/e2e/build`` and ``benchmarks/cold_start.py``.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable
from pathlib import Path

RUNTIME_REQUIREMENTS = ["boto3"]
"""What the python3.13 Lambda runtime provides besides the standard library (with their
dependencies)."""


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions of these requirements and of everything they require."""
    from packaging.requirements import Requirement

    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [Requirement(line).name for line in requirements]
    while todo:
        name = todo.pop()
        if _key(name) in found:
            continue
        dist = importlib.metadata.distribution(name)
        found[_key(name)] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def layer_requirements(layers: Iterable[Path]) -> list[str]:
    """The lines of these layers' ``requirements.txt`` (comments and blanks left out)."""
    lines = []
    for layer in layers:
        path = layer / "requirements.txt"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    lines.append(line)
    return lines


def lambda_site(target: Path, requirements: Iterable[str] = ()) -> Path:
    """A directory of links to these distributions only (their packages, modules, ``.pyc`` and
    metadata), so that the process sees what Lambda's would: no development packages."""
    target.mkdir(parents=True, exist_ok=True)
    for dist in _closure([*RUNTIME_REQUIREMENTS, *requirements]):
        base = Path(str(dist.locate_file("")))
        for file in dist.files or []:
            parts = Path(str(file)).parts
            if not parts or parts[0] == "..":
                continue
            if parts[0] == "__pycache__":  # the .pyc of a top-level module (typing_extensions)
                (target / "__pycache__").mkdir(exist_ok=True)
                link = target / "__pycache__" / parts[-1]
                source = base / "__pycache__" / parts[-1]
            else:
                link, source = target / parts[0], base / parts[0]
            if source.exists() and not link.exists():
                link.symlink_to(source)
    return target
