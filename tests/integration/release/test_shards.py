"""The fan-out reads a session's results from GSI1's shards and its legacy key merged in ID order
(issue 16): every candidate once, in ID order, resumed after its cursor as before.

Results stored before the index key was sharded keep ``gsi1pk=RESULTS#<session>``; they are read
with the shards, with no migration, so they are put here with that key directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from devtools.harness.stack import Stack
from tests.helpers.notify import (
    fail_third_queue_send,
    put_items_in_moto,
    queued_batches,
    result_for,
    seed_results,
    seed_session,
)
from tests.helpers.uploads import session_record

SESSION = "C1A-2026-06-20-PB"


def _legacy_item(id_number: str, session_id: str) -> dict[str, Any]:
    """A result as stored before the shards: the session's one index key, no version."""
    return {
        "pk": f"CANDIDATE#{id_number}",
        "sk": f"RESULT#{session_id}",
        "gsi1pk": f"RESULTS#{session_id}",
        "gsi1sk": id_number,
        **result_for(id_number, session_id).model_dump(mode="json"),
    }


def _seed(count: int, legacy_every: int) -> list[str]:
    """``count`` results of SESSION in ID order, every ``legacy_every``-th under the legacy key."""
    from exam_results.wiring import deps

    session = seed_session(SESSION, date(2026, 6, 20), "PB")
    ids = [f"MRG{n:06d}" for n in range(count)]
    legacy = ids[::legacy_every]
    seed_results(session.session_id, [i for i in ids if i not in set(legacy)])
    put_items_in_moto(deps().exams.table, (_legacy_item(i, SESSION) for i in legacy))
    return ids


@pytest.mark.parametrize("page_size", [None, 7])
def test_result_versions_merge_the_shards_and_the_legacy_key_in_id_order(stack: Stack, page_size: int | None) -> None:
    from exam_results.wiring import deps

    ids = _seed(300, legacy_every=9)
    fanout = deps().fanout

    listed = [i for i, _ in fanout.result_versions(SESSION, page_size=page_size)]
    assert listed == ids  # each once, in ID order, legacy ones in their place
    for cursor in (ids[0], ids[9], ids[150], ids[151], ids[-2]):  # legacy and sharded cursors
        after = [i for i, _ in fanout.result_versions(SESSION, start_after=cursor, page_size=page_size)]
        assert after == ids[ids.index(cursor) + 1 :]
    assert list(fanout.result_versions(SESSION, start_after=ids[-1], page_size=page_size)) == []


def test_a_candidate_with_a_legacy_and_a_sharded_version_comes_once_with_both(stack: Stack) -> None:
    from exam_results.wiring import deps

    ids = _seed(40, legacy_every=4)
    exams = deps().exams
    # MRG000004 has its legacy result; a later file gave it a version, stored under its shard.
    exams.write_items([exams.result_item(result_for("MRG000004", SESSION), version="2026-07-01T00:00:00Z#f1")])

    listed = dict(deps().fanout.result_versions(SESSION))
    assert list(listed) == ids
    assert sorted(listed["MRG000004"], key=str) == sorted([None, "2026-07-01T00:00:00Z#f1"], key=str)


def test_a_crashed_fan_out_resumes_after_its_cursor_across_shards_and_legacy_items(
    stack: Stack, monkeypatch: Any
) -> None:
    from exam_results.usecases import release
    from exam_results.wiring import deps

    ids = _seed(1600, legacy_every=7)
    monkeypatch.setattr(release, "CURSOR_EVERY", 500)
    fail_third_queue_send(monkeypatch)
    d = deps()
    with time_machine.travel(datetime(2026, 7, 25, 8, 1, tzinfo=UTC), tick=True):
        with pytest.raises(RuntimeError):
            release.run(d, lambda: 600_000, owner="run-1")
        assert session_record(SESSION)["notify_cursor"] == ids[999]
        resumed = release.run(d, lambda: 600_000, owner="run-2")
        queued = [i for b in queued_batches(stack) for i in b["id_numbers"]]
    assert resumed.fanouts[0].done and resumed.fanouts[0].enqueued == 600
    assert sorted(queued) == ids and len(queued) == len(set(queued))  # every candidate exactly once
    assert all(b["id_numbers"] == sorted(b["id_numbers"]) for b in queued_batches(stack))
