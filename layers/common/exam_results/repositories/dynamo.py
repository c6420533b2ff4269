"""Small helpers over the low-level DynamoDB client: (de)serialisation, transactions, errors,
and the one loop of batched reads and writes (``batch_get``, ``batch_write``)."""

from __future__ import annotations

import contextvars
import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from exam_results.errors import ServiceUnavailable
from exam_results.repositories.aws import client, pool, thread_client
from exam_results.repositories.aws import error_code as error_code

GET_KEYS = 100
"""BatchGetItem takes at most 100 keys a call."""
WRITE_ITEMS = 25
"""BatchWriteItem takes at most 25 requests a call."""
BATCH_CALLS = 8
"""Calls for one batch at most: the first and 7 retries of what DynamoDB left unprocessed (with
the SDK's own 5 attempts under each), about 6 s of back-off in all; then ``ServiceUnavailable``."""
BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0
POOL_THREADS = 8
"""Threads of a parallel ``batch_get``/``batch_write``: 8 calls in flight (docs/capacity.md)."""

# Whole-call errors that say "not now" rather than "wrong request": they become
# ServiceUnavailable; any other ClientError (a bad request, a missing table) is a bug and stays loud.
TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)

_SER = TypeSerializer()
_DES = TypeDeserializer()


def ddb() -> Any:
    return client("dynamodb")


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A Python dict → DynamoDB attribute map (None values are left out)."""
    return {k: _SER.serialize(_to_dynamo(v)) for k, v in values.items() if v is not None}


def values(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Expression attribute values → DynamoDB form."""
    return {k: _SER.serialize(_to_dynamo(v)) for k, v in attrs.items()}


def plain(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A DynamoDB attribute map → a Python dict (Decimals back to int/float)."""
    if record is None:
        return None
    return {k: _from_dynamo(_DES.deserialize(v)) for k, v in record.items()}


def is_condition_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


def cancellation_reasons(exc: ClientError) -> list[str]:
    """Codes of a cancelled transaction's items, in order ('None' for items that passed)."""
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


def transact(operations: Iterable[dict[str, Any]]) -> None:
    """One all-or-nothing TransactWriteItems call (raises ClientError on cancellation)."""
    ddb().transact_write_items(TransactItems=list(operations))


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a query, page after page."""
    while True:
        page = ddb().query(**kwargs)
        for record in page.get("Items", []):
            yield plain(record) or {}
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def _sleep_before(attempt: int) -> None:
    """Full-jitter exponential back-off before retrying what a batch call left unprocessed."""
    time.sleep(min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * random.random())  # noqa: S311


def _call(operation: str, send: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return send(**kwargs)
    except ClientError as exc:
        if error_code(exc) in TRANSIENT:
            raise ServiceUnavailable(operation, error_code(exc)) from exc
        raise


def batch_get(
    table: str,
    keys: Iterable[Mapping[str, Any]],
    *,
    fields: Sequence[str] = (),
    consistent: bool = True,
    parallel: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """The items of these keys (``{"pk": ..., "sk": ...}``, each once), 100 keys a
    ``BatchGetItem``, only ``fields`` of them if given; absent items are left out. Keys left
    unprocessed are asked again (``BATCH_CALLS`` calls a batch at most, jittered back-off).
    Returns the plain items (in no particular order) and the calls made.

    ``parallel``: up to ``POOL_THREADS`` batches in flight, as ``batch_write`` does (a results
    file's look-ups, docs/capacity.md).

    Raises ``ServiceUnavailable`` when DynamoDB keeps leaving keys unprocessed or throttles past
    the SDK's retries."""
    options: dict[str, Any] = {"ConsistentRead": consistent}
    if fields:
        names = {f"#f{i}": f for i, f in enumerate(fields)}
        options["ProjectionExpression"] = ", ".join(names)
        options["ExpressionAttributeNames"] = names
    batches = itertools.batched(map(item, keys), GET_KEYS, strict=False)
    if parallel:
        answers = _in_pool(lambda batch: _get_batch(table, batch, options, thread_client("dynamodb")), batches)
    else:
        client = ddb()
        answers = [_get_batch(table, batch, options, client) for batch in batches]
    return [record for found, _ in answers for record in found], sum(calls for _, calls in answers)


def _get_batch(
    table: str, batch: Sequence[dict[str, Any]], options: dict[str, Any], client: Any
) -> tuple[list[dict[str, Any]], int]:
    """One batch of ≤ 100 keys, its unprocessed ones asked again; the items and the calls made."""
    request: dict[str, Any] = {table: {"Keys": list(batch), **options}}
    found: list[dict[str, Any]] = []
    for attempt in range(BATCH_CALLS):
        if attempt:
            _sleep_before(attempt)
        page = _call("BatchGetItem", client.batch_get_item, RequestItems=request)
        found.extend(map(plain, page.get("Responses", {}).get(table, [])))  # type: ignore[arg-type]
        request = page.get("UnprocessedKeys") or {}
        if not request:
            return found, attempt + 1
    raise ServiceUnavailable("BatchGetItem", "UnprocessedKeys")


def put_requests(records: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """``PutRequest``s of these plain items, for ``batch_write``."""
    return ({"PutRequest": {"Item": item(r)}} for r in records)


def delete_requests(keys: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """``DeleteRequest``s of these plain keys, for ``batch_write``."""
    return ({"DeleteRequest": {"Key": item(k)}} for k in keys)


def _write_batch(table: str, batch: Sequence[dict[str, Any]], send: Callable[..., Any]) -> int:
    """One batch of ≤ 25 requests, its unprocessed ones retried; returns the calls made."""
    request: dict[str, Any] = {table: list(batch)}
    for attempt in range(BATCH_CALLS):
        if attempt:
            _sleep_before(attempt)
        request = _call("BatchWriteItem", send, RequestItems=request).get("UnprocessedItems") or {}
        if not request:
            return attempt + 1
    raise ServiceUnavailable("BatchWriteItem", "UnprocessedItems")


def batch_write(table: str, requests: Iterable[dict[str, Any]], *, parallel: bool = False) -> int:
    """``PutRequest``/``DeleteRequest``s (``put_requests``, ``delete_requests``; no two for one
    key) streamed 25 a ``BatchWriteItem``, unprocessed ones retried (``BATCH_CALLS`` calls a
    batch at most, jittered back-off). Returns the calls made.

    Not a transaction: when it raises (``ServiceUnavailable``, or whatever the ``requests``
    iterator raises), some batches may be written and others not — callers write where no reader
    looks until the whole set is stored (staging) or write what may be written again.

    ``parallel``: up to ``POOL_THREADS`` batches in flight at once, each thread with its own
    client, for large files (docs/capacity.md). At most twice as many batches as threads are held
    at any time (memory stays flat however many there are); on the first failure no further batch
    is started, the ones in flight finish, and the error is raised."""
    batches = itertools.batched(requests, WRITE_ITEMS, strict=False)
    if not parallel:
        send = ddb().batch_write_item
        return sum(_write_batch(table, batch, send) for batch in batches)
    return sum(_in_pool(lambda batch: _write_batch(table, batch, thread_client("dynamodb").batch_write_item), batches))


type Batch = tuple[dict[str, Any], ...]


def _in_pool[T](work: Callable[[Batch], T], batches: Iterator[Batch]) -> list[T]:
    """``work`` of each batch on ``POOL_THREADS`` threads, at most twice as many batches held at
    once; the first failure stops new batches and is raised once those in flight are done."""
    answers: list[T] = []
    pending: set[Future[T]] = set()
    threads = pool(POOL_THREADS)
    try:
        for batch in batches:
            if len(pending) >= 2 * POOL_THREADS:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                answers.extend(f.result() for f in done)  # raises the first failure
            # Each batch runs in a copy of the caller's context (logging keys, and the test
            # harness's record of which function makes the call).
            pending.add(threads.submit(contextvars.copy_context().run, work, batch))
        done, pending = wait(pending)
        answers.extend(f.result() for f in done)
    finally:
        for future in pending:  # a failure: batches not started yet are not started at all
            future.cancel()
        wait(pending)  # and those in flight finish before the error is raised
    return answers
