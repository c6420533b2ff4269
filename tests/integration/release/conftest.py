"""Fixtures of the release's tests (helpers: ``tests.helpers.notify``)."""

from __future__ import annotations

import pytest

from devtools.harness import moto_patches


@pytest.fixture(autouse=True)
def _moto_transactions_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's TransactWriteItems without its whole-table backups (see ``moto_patches``)."""
    moto_patches.transactions_per_item(monkeypatch)
