"""A 100,000-row results file through the real handler: write calls counted (SPEC §5, issue: at
most 1.05 × ⌈N/25⌉ BatchWriteItem calls), unprocessed items retried, every result stored once.

The object is put into moto's S3 and its real S3 event delivered to ``PublishResultsFunction``
on the template's stack, as in the other upload tests. Only the two bulk DynamoDB operations
are answered by ``BulkTable``, a stand-in that keeps items in a dict: moto stores about one item
a millisecond (a 100-key BatchGetItem takes ~90 ms, a 25-item BatchWriteItem ~25 ms), which
would make this one test take ~5 minutes. Everything else the handler does (its processed
marker, S3, the report) goes to moto. ``BulkTable`` answers in DynamoDB's own shapes — and,
like DynamoDB under load, leaves items unprocessed now and then, which the handler must retry.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import date
from types import SimpleNamespace
from typing import Any

from tests.helpers.uploads import Board, layer_dynamodb_events

N = 100_000
SESSION = "C1A-2026-06-20-PB"


class BulkTable:
    """BatchGetItem and BatchWriteItem of the layer's DynamoDB client, answered from a dict.

    Hooked on ``before-call`` (after botocore has validated and serialised the request, so the
    request is checked as DynamoDB would receive it). Every ``unprocessed_every``-th write call
    leaves its last 3 items unprocessed, as DynamoDB does when a partition is throttled.
    """

    def __init__(self, table: str, unprocessed_every: int = 50) -> None:
        self.table = table
        self._lock = threading.Lock()  # a parallel write's threads call at once
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.puts: Counter[tuple[str, str]] = Counter()
        self.write_calls = 0
        self.read_calls = 0
        self.left_unprocessed = 0
        self._every = unprocessed_every
        for events in layer_dynamodb_events():
            events.register("before-call.dynamodb.BatchWriteItem", self._write)
            events.register("before-call.dynamodb.BatchGetItem", self._read)

    def seed(self, records: list[dict[str, Any]]) -> None:
        from exam_results.repositories import dynamo

        for record in records:
            self.items[(record["pk"], record["sk"])] = dynamo.item(record)

    @staticmethod
    def _answer(parsed: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "HTTPHeaders": {}, "RetryAttempts": 0}
        return SimpleNamespace(status_code=200, headers={}), parsed

    def _write(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            return self._write_locked(params)

    def _write_locked(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.write_calls += 1
        unprocessed: dict[str, list[dict[str, Any]]] = {}
        for table, requests in json.loads(params["body"])["RequestItems"].items():
            assert table == self.table and 1 <= len(requests) <= 25
            if self.write_calls % self._every == 0 and len(requests) > 3:
                requests, unprocessed[table] = requests[:-3], requests[-3:]
                self.left_unprocessed += 3
            for request in requests:
                item = request["PutRequest"]["Item"]
                key = (item["pk"]["S"], item["sk"]["S"])
                self.items[key] = item
                self.puts[key] += 1
        return self._answer({"UnprocessedItems": unprocessed})

    def _read(self, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            return self._read_locked(params)

    def _read_locked(self, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self.read_calls += 1
        responses: dict[str, list[dict[str, Any]]] = {}
        for table, request in json.loads(params["body"])["RequestItems"].items():
            assert table == self.table and 1 <= len(request["Keys"]) <= 100
            wanted = set(request.get("ExpressionAttributeNames", {}).values())
            found = []
            for key in request["Keys"]:
                item = self.items.get((key["pk"]["S"], key["sk"]["S"]))
                if item is not None:
                    found.append({k: v for k, v in item.items() if not wanted or k in wanted})
            responses[table] = found
        return self._answer({"Responses": responses, "UnprocessedKeys": {}})


def test_a_100000_row_file_is_written_with_at_most_105_percent_of_the_minimum_batch_calls(
    board: Board, monkeypatch: Any
) -> None:
    from exam_results.catalogue import EXAMS, grade_for
    from exam_results.entry_rows import default_results_available_by
    from exam_results.models import Entry, ExamSession
    from exam_results.repositories import dynamo
    from exam_results.repositories.uploads import UploadsRepository
    from exam_results.wiring import deps

    monkeypatch.setattr(dynamo, "_sleep_before", lambda _: None)  # the back-off's waits
    table = BulkTable(board.stack.physical("DataTable"))
    session = ExamSession(
        session_id=SESSION,
        exam_code="C1A",
        exam_date=date(2026, 6, 20),
        format="PB",
        results_available_by=default_results_available_by(date(2026, 6, 20), "PB"),
    )
    table.seed([deps().exams.session_item(session)])
    table.seed(
        [
            UploadsRepository.entry_item(
                Entry(
                    id_number=f"BULK{i:06d}",
                    session_id=SESSION,
                    secret_hash="0" * 64,
                    candidate_number="0001",
                    candidate_name="Test Candidate",
                    date_of_birth=date(2005, 1, 2),
                    centre_number="GB123",
                    centre_name="Oxford Language Centre",
                )
            )
            for i in range(N)
        ]
    )
    rows = ["session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking"]
    for i in range(N):
        skills = [160 + (i + k * 7) % 51 for k in range(5)]
        overall = (2 * sum(skills) + 5) // 10
        grade, cefr = grade_for(EXAMS["C1A"], overall)
        rows.append(f"{SESSION},BULK{i:06d},{overall},{grade},{cefr or ''},{','.join(map(str, skills))}")

    answer, _ = board.results("results/bulk.csv", "\n".join(rows) + "\n")

    assert answer == {"processed": [{"key": "results/bulk.csv", "status": "accepted", "stored": N}]}
    minimum = -(-N // 25)
    retries = table.left_unprocessed // 3  # one more call for each call that left items over
    assert retries > 0
    assert table.write_calls == minimum + retries
    assert table.write_calls <= 1.05 * minimum, table.write_calls
    result_keys = [key for key in table.puts if key[1].startswith("RESULT#")]
    assert len(result_keys) == N and set(table.puts.values()) == {1}  # each result once
    assert table.read_calls <= -(-N // 100) + 1 + N // 1000  # entries 100 a call, sessions by chunk
    versions = {key[1] for key in result_keys}  # every row a version of this one file (staging)
    assert len({sk.split("#", 2)[2] for sk in versions}) == 1
    for i in (0, 4_321, N - 1):
        (key,) = [k for k in result_keys if k[0] == f"CANDIDATE#BULK{i:06d}"]
        stored = dynamo.plain(table.items[key])
        assert stored is not None and stored["skills"]["reading"] == 160 + i % 51
    assert board.report("results/bulk.csv")["stored"] == N
