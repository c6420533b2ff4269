"""``dynamo.batch_get`` and ``dynamo.batch_write``, the one loop of batched reads and writes,
against moto's tables built from template.yaml.

DynamoDB leaving items unprocessed is played by ``Unprocessed``, a botocore hook on the layer's
clients (the cached one and the threads' of a parallel write): it takes the last items of chosen
calls out of the request before moto sees it and hands them back as ``UnprocessedItems`` /
``UnprocessedKeys``, as DynamoDB does when a partition is throttled. Nothing in the code under
test is patched but the back-off's sleep.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devtools.harness.stack import Stack
from tests.helpers.uploads import Faults, layer_dynamodb_events

LEFT = 3  # items (or keys) a throttled call leaves over


class Unprocessed:
    """Leaves the last ``LEFT`` items of the calls ``which(n)`` picks (n counted from 1)
    unprocessed, and counts which items each call really wrote or read."""

    def __init__(self, operation: str, which: Callable[[int], bool]) -> None:
        self.operation = operation
        self.which = which
        self.calls = 0
        self.done: Counter[str] = Counter()  # item key → times written (or read)
        self._lock = threading.Lock()
        self._events = layer_dynamodb_events()
        for events in self._events:
            events.register(f"before-call.dynamodb.{operation}", self._before)
            events.register(f"after-call.dynamodb.{operation}", self._after)

    @staticmethod
    def _key(entry: dict[str, Any]) -> str:
        record = entry.get("PutRequest", {}).get("Item") or entry.get("DeleteRequest", {}).get("Key") or entry
        return f"{record['pk']['S']}|{record['sk']['S']}"

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        with self._lock:
            self.calls += 1
            hit = self.which(self.calls)
        body = json.loads(params["body"])
        ((table, request),) = body["RequestItems"].items()
        entries = request["Keys"] if self.operation == "BatchGetItem" else request
        if hit and len(entries) <= LEFT:  # all of it left over: DynamoDB is not reached at all
            key = "UnprocessedKeys" if self.operation == "BatchGetItem" else "UnprocessedItems"
            answer = {key: {table: request}, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}}}
            return SimpleNamespace(status_code=200, headers={}), answer
        if hit:
            kept, left = entries[:-LEFT], entries[-LEFT:]
            if self.operation == "BatchGetItem":
                request["Keys"] = kept
                context["unprocessed"] = {table: {**request, "Keys": left}}
            else:
                body["RequestItems"][table] = kept
                context["unprocessed"] = {table: left}
            params["body"] = json.dumps(body).encode()
            entries = kept
        with self._lock:
            self.done.update(map(self._key, entries))
        return None

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        left = context.get("unprocessed")
        if left:
            parsed["UnprocessedKeys" if self.operation == "BatchGetItem" else "UnprocessedItems"] = left

    def close(self) -> None:
        for events in self._events:
            events.unregister(f"before-call.dynamodb.{self.operation}", self._before)
            events.unregister(f"after-call.dynamodb.{self.operation}", self._after)


@pytest.fixture
def table(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    from exam_results.repositories import dynamo

    monkeypatch.setattr(dynamo, "_sleep_before", lambda attempt: None)  # the back-off's waits
    return stack.physical("DataTable")


@pytest.fixture
def unprocessed() -> Iterator[Callable[[str, Callable[[int], bool]], Unprocessed]]:
    made: list[Unprocessed] = []

    def make(operation: str, which: Callable[[int], bool]) -> Unprocessed:
        made.append(Unprocessed(operation, which))
        return made[-1]

    yield make
    for hook in made:
        hook.close()


def items(n: int, prefix: str = "ITEM") -> list[dict[str, Any]]:
    return [{"pk": f"{prefix}#{i:05d}", "sk": "X", "n": i} for i in range(n)]


def stored(stack: Stack, table: str) -> dict[str, int]:
    from exam_results.repositories import dynamo

    found: dict[str, int] = {}
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = stack.client("dynamodb").scan(**kwargs)
        for raw in page["Items"]:
            record = dynamo.plain(raw) or {}
            if "n" in record:
                found[record["pk"]] = record["n"]
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize("parallel", [False, True], ids=["one thread", "pool"])
def test_unprocessed_items_are_written_again_each_item_once(
    stack: Stack, table: str, unprocessed: Any, parallel: bool
) -> None:
    from exam_results.repositories import dynamo

    hook = unprocessed("BatchWriteItem", lambda n: n % 4 == 1)  # calls 1, 5, 9, ... leave 3 over
    records = items(600)

    calls = dynamo.batch_write(table, dynamo.put_requests(iter(records)), parallel=parallel)

    assert calls == hook.calls
    assert calls > 600 // 25  # some batches took a second call
    assert set(hook.done.values()) == {1} and len(hook.done) == 600  # nothing dropped, nothing twice
    assert stored(stack, table) == {r["pk"]: r["n"] for r in records}


@pytest.mark.parametrize("parallel", [False, True], ids=["one thread", "pool"])
def test_items_left_unprocessed_call_after_call_end_in_a_typed_error(
    table: str, unprocessed: Any, parallel: bool
) -> None:
    from exam_results.errors import ServiceUnavailable
    from exam_results.repositories import dynamo

    hook = unprocessed("BatchWriteItem", lambda n: True)

    with pytest.raises(ServiceUnavailable) as raised:
        dynamo.batch_write(table, dynamo.put_requests(items(25)), parallel=parallel)

    assert (raised.value.operation, raised.value.code) == ("BatchWriteItem", "UnprocessedItems")
    assert hook.calls == dynamo.BATCH_CALLS  # capped: the first call and its retries, no more


@pytest.mark.parametrize("parallel", [False, True], ids=["one thread", "pool"])
def test_unprocessed_keys_are_read_again_then_a_typed_error(
    stack: Stack, table: str, unprocessed: Any, parallel: bool
) -> None:
    from exam_results.errors import ServiceUnavailable
    from exam_results.repositories import dynamo

    records = items(250)
    dynamo.batch_write(table, dynamo.put_requests(records))
    keys = [{"pk": r["pk"], "sk": "X"} for r in records] + [{"pk": "ABSENT", "sk": "X"}]
    hook = unprocessed("BatchGetItem", lambda n: n in (1, 2, 4))

    found, calls = dynamo.batch_get(table, keys, fields=("pk", "n"), parallel=parallel)

    assert sorted((r["pk"], r["n"]) for r in found) == sorted((r["pk"], r["n"]) for r in records)
    assert all(set(r) == {"pk", "n"} for r in found)  # only the fields asked for
    assert calls == hook.calls == 3 + 3  # 251 keys: 3 calls, and 3 of them left keys over
    hook.close()

    unprocessed("BatchGetItem", lambda n: True)
    with pytest.raises(ServiceUnavailable, match="BatchGetItem: UnprocessedKeys"):
        dynamo.batch_get(table, keys, parallel=parallel)


@pytest.mark.parametrize("operation", ["BatchWriteItem", "BatchGetItem"])
def test_a_throttle_past_the_sdk_retries_is_a_typed_error_a_bad_request_stays_loud(table: str, operation: str) -> None:
    from exam_results.errors import ServiceUnavailable
    from exam_results.repositories import dynamo

    def call() -> object:
        if operation == "BatchGetItem":
            return dynamo.batch_get(table, [{"pk": "A", "sk": "X"}])
        return dynamo.batch_write(table, dynamo.put_requests(items(3)))

    faults = Faults()
    try:
        faults.fail(operation, "every")
        with pytest.raises(ServiceUnavailable) as raised:
            call()
        assert (raised.value.operation, raised.value.code) == (operation, "ProvisionedThroughputExceededException")
        assert isinstance(raised.value.__cause__, ClientError)
        faults.fail(operation, "every", "ValidationException")
        with pytest.raises(ClientError, match="ValidationException"):
            call()
    finally:
        faults.close()


def test_a_failure_in_the_pool_starts_no_further_batch_and_is_raised(table: str) -> None:
    """The 5th BatchWriteItem of 80 fails past the SDK's retries: the writes stop (the batches
    in flight finish, none after them starts) and the caller gets the typed error."""
    from exam_results.errors import ServiceUnavailable
    from exam_results.repositories import dynamo

    faults = Faults()
    handed = 0

    def requests() -> Iterator[dict[str, Any]]:
        nonlocal handed
        for request in dynamo.put_requests(items(2_000)):
            handed += 1
            yield request

    try:
        faults.fail("BatchWriteItem", {5})
        with pytest.raises(ServiceUnavailable, match="ProvisionedThroughputExceeded"):
            dynamo.batch_write(table, requests(), parallel=True)
    finally:
        faults.close()
    in_flight = 2 * dynamo.POOL_THREADS + 1  # at most this many batches handed over at once
    assert faults.counts["BatchWriteItem"] <= 5 + in_flight
    assert handed <= (5 + in_flight) * 25 < 2_000  # the rest of the file is never read
