"""A session's results are spread over GSI1's shards (issue 16): one index partition key takes
about 1,000 writes a second, so a million rows of one session under a single key would need
1,000 s of writes, past the import's 900 s timeout (docs/capacity.md, "A million-row results file").
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any

from tests.helpers.uploads import RESULT_HEADER, Board, seed_entries, seed_sessions

SESSION = "C1A-2026-06-20-PB"
N = 1_600
SHARDS = 16
SLACK = 0.5  # a fair hash of 1,600 IDs: ≈ 100 a shard, σ ≈ 10; 150 would be five σ off


def _row(id_number: str, overall: int = 203) -> str:
    # C1A: 1015/5 = 203 A C2 (the same scores for everyone; the ID is what is hashed)
    return f"{SESSION},{id_number},{overall},A,C2,200,205,198,210,202"


def test_a_session_of_results_is_spread_evenly_over_the_index_shards(
    stack: Any, board: Board, table_items: Any
) -> None:
    ids = [f"SHD{n:06d}" for n in range(N)]
    seed_sessions([(SESSION, "C1A", date(2026, 6, 20), "PB", "open")])
    seed_entries((i, SESSION) for i in ids)

    answer, _ = board.results("results/shards.csv", "\n".join([RESULT_HEADER, *map(_row, ids)]) + "\n")
    assert answer["processed"][0]["status"] == "accepted" and answer["processed"][0]["stored"] == N

    stored = table_items("RESULT#")
    assert len(stored) == N
    per_key = Counter(r["gsi1pk"] for r in stored)
    assert set(per_key) == {f"RESULTS#{SESSION}#{n}" for n in range(SHARDS)}  # every shard used, no legacy key
    assert max(per_key.values()) <= math.ceil(N / SHARDS * (1 + SLACK))
    assert all(r["gsi1sk"] == r["id_number"] for r in stored)

    # A correction of some candidates: each new version goes to the shard of that ID's first one,
    # so a candidate's versions stay together in one index partition.
    corrected = ids[::97]
    answer, _ = board.results("results/shards-fix.csv", "\n".join([RESULT_HEADER, *map(_row, corrected)]) + "\n")
    assert answer["processed"][0]["status"] == "accepted"
    keys_of: dict[str, set[str]] = {}
    versions: Counter[str] = Counter()
    for r in table_items("RESULT#"):
        keys_of.setdefault(r["id_number"], set()).add(r["gsi1pk"])
        versions[r["id_number"]] += 1
    assert {i for i, n in versions.items() if n == 2} == set(corrected)
    assert all(len(keys) == 1 for keys in keys_of.values())
