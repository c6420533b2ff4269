"""Lazily created, cached boto3 clients (never at import time)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from exam_results.errors import ServiceUnavailable

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)

# DynamoDB checks every request itself (and answers a bad one with a ValidationException);
# botocore's client-side check of the same request costs more CPU than sending it: about 5 ms
# for a 25-item BatchWriteItem, 20 s of a 100,000-row results file's 4,000 write calls.
_UNCHECKED = {"dynamodb"}


@cache
def client(service: str) -> Any:
    return _new_client(service)


_threads = threading.local()
_creating = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def pool(threads: int) -> ThreadPoolExecutor:
    """The container's one pool for parallel batches (``dynamo.batch_get``/``batch_write``),
    made on first use: its threads, and so their clients (``thread_client``), live from call to
    call — a pool per call would make ``threads`` new clients for every 1,000 rows looked up."""
    global _pool
    with _creating:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dynamodb-batch")
        return _pool


def thread_client(service: str) -> Any:
    """A client of this thread's own, for the threads of a pool (``dynamo.batch_write(...,
    parallel=True)``): boto3 clients are thread-safe, but a client per thread is the safe pattern
    its documentation gives. Created on first use in the thread, kept for the thread's life."""
    clients: dict[str, Any] = _threads.__dict__.setdefault("clients", {})
    if service not in clients:
        with _creating:  # creating clients of one session at once is what is not thread-safe
            clients[service] = _new_client(service)
    return clients[service]


def _new_client(service: str) -> Any:
    config = _CONFIG.merge(Config(parameter_validation=False)) if service in _UNCHECKED else _CONFIG
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError``, or of the ``ServiceUnavailable`` a
    repository made of one ("" for any other exception)."""
    if isinstance(exc, ServiceUnavailable):
        return exc.code
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or credentials), the pool's threads'
    with their pool."""
    global _pool
    client.cache_clear()
    with _creating:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
