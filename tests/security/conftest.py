"""Fixtures of the security tests: AWS call capture (devtools.harness.aws_calls) and a full flow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from devtools.harness import aws_calls
from tests.conftest import registration

SESSION = "C1A-2026-06-20-PB"
SKILLS = {"reading": 190, "use_of_english": 185, "writing": 176, "listening": 201, "speaking": 193}
AVAILABLE = datetime(2026, 7, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def calls() -> Iterator[aws_calls.Calls]:
    with aws_calls.capture() as captured:
        yield captured


@pytest.fixture
def released(seed, exams):  # type: ignore[no-untyped-def]
    """A candidate with an entry and a released result (not registered yet)."""
    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    c = seed(session_id=SESSION)
    exams.result(c.id_number, SESSION, 189, "C", "C1", SKILLS)
    return c


@pytest.fixture
def released_from_file(stack, exams):  # type: ignore[no-untyped-def]
    """As ``released``, the entry from a published entries file (a version of the entry item,
    entries staged: issue 18), as every entry is in service."""
    from tests.conftest import Candidate
    from tests.helpers.uploads import ENTRY_HEADER, Board

    exams.session(SESSION, "C1A", date(2026, 6, 20), "PB", AVAILABLE, released_at=AVAILABLE)
    row = f'{SESSION},C1A,2026-06-20,PB,ABC123456,4821,0042,"Jane Candidate",2004-05-17,GB123,Oxford Language Centre'
    answer, _ = Board(stack).entries("entries/security.csv", f"{ENTRY_HEADER}\n{row}\n")
    assert answer["processed"][0]["status"] == "accepted", answer
    exams.result("ABC123456", SESSION, 189, "C", "C1", SKILLS)
    return Candidate("ABC123456", "4821", "Jane Candidate", SESSION)


__all__ = ["AVAILABLE", "SESSION", "SKILLS", "registration"]
