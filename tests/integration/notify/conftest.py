"""Fixtures of the sender's tests (helpers: ``tests.helpers.notify``)."""

from __future__ import annotations

import pytest

from devtools.harness import moto_patches


@pytest.fixture(autouse=True)
def _moto_transactions_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's TransactWriteItems without its whole-table backups (see ``moto_patches``)."""
    moto_patches.transactions_per_item(monkeypatch)


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off delays of milliseconds (the policy is the same, the clock is not waited for)."""
    from exam_results.usecases import notify

    monkeypatch.setattr(notify, "POLICY", notify.SendPolicy(base_delay=0.001, max_delay=0.004))
