"""Bytecode for a ``sam build`` output, so that Lambda never compiles our code or the layer's.

``sam build`` copies sources without ``__pycache__`` and installs the layer's requirements without
bytecode, and ``/var/task`` and ``/opt`` are read-only in Lambda: every cold start would compile
every module it imports (Powertools, pydantic and our package), about a fifth of an API
function's init (docs/performance.md, "Cold start"). ``make build`` runs this right after
``sam build``; ``sam deploy`` zips the directory as it is, ``.pyc`` files included.

The ``.pyc`` files are ``unchecked-hash`` (PEP 552): Python uses them without looking at the
source's timestamp, which a zip does not keep exactly. That is safe for an artefact that is
never edited; a source tree should never get them. Run with the Python of the functions'
runtime (``python3.13``): another version's ``.pyc`` would be ignored by Lambda.

    python3.13 -m devtools.compile_build .aws-sam/build

Standard library only: it runs on the bare ``python3.13`` that ``sam build`` uses.
"""

from __future__ import annotations

import compileall
import py_compile
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def template_runtime(template: Path = ROOT / "template.yaml") -> str:
    """The ``Runtime`` of the template's Globals (``python3.13``)."""
    found = re.search(r"^\s+Runtime:\s*(python3\.\d+)\s*$", template.read_text(encoding="utf-8"), re.M)
    if found is None:
        raise SystemExit(f"no python Runtime in {template}")
    return found.group(1)


def compile_build(build_dir: Path) -> int:
    """Writes a ``.pyc`` for every ``.py`` under ``build_dir``; returns how many modules there are."""
    runtime = template_runtime()
    running = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if running != runtime:
        raise SystemExit(f"compile with {runtime} (the functions' runtime), not {running}")
    if not build_dir.is_dir():
        raise SystemExit(f"{build_dir} is not a directory: run sam build first")
    ok = compileall.compile_dir(
        str(build_dir),
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    if not ok:
        raise SystemExit(f"some modules under {build_dir} do not compile")
    return sum(1 for _ in build_dir.rglob("*.py"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    build_dir = Path(args[0] if args else ".aws-sam/build")
    modules = compile_build(build_dir)
    print(f"compiled {modules} modules under {build_dir} (unchecked-hash .pyc)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
