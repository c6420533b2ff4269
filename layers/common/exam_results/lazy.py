"""Modules imported by the first request that uses them, not at a cold start.

An API function's handler module declares its use cases with :func:`lazy`; a cold start then
pays only for the resolver and the routes' models, and each route imports its use case (and the
repositories behind it) when it first runs: docs/performance.md, "Cold start". With SnapStart,
:func:`load_all` imports every one of them before the snapshot instead (exam_results.snapstart).
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()
_DECLARED: list[LazyModule] = []


class LazyModule:
    """Stands for a module: the first attribute read imports it, later reads go straight to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.module: ModuleType | None = None

    def load(self) -> ModuleType:
        if self.module is None:
            with _LOCK:  # concurrent first requests in tests' threads import it once
                if self.module is None:
                    self.module = importlib.import_module(self.name)
        return self.module

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.load(), attribute)

    def __repr__(self) -> str:
        return f"<lazy {self.name} {'loaded' if self.module is not None else 'not loaded'}>"


def lazy(name: str) -> Any:
    """A stand-in for the module ``name`` (typed ``Any``: handlers import the real module under
    ``TYPE_CHECKING`` for their types)."""
    module = LazyModule(name)
    _DECLARED.append(module)
    return module


def declared() -> list[LazyModule]:
    """Every stand-in made in this process, loaded or not."""
    return list(_DECLARED)


def load_all() -> list[str]:
    """Imports every declared module now (before a snapshot); returns their names."""
    return [module.load().__name__ for module in declared()]
