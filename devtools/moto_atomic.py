"""Make moto's DynamoDB handle one request at a time, as DynamoDB applies each atomically,
and moto's SQS hand each message to one receiver at a time.

moto's DynamoDB backend is plain Python with no locking: under threads a conditional update
can interleave with another request. DynamoDB itself applies every request (and transaction)
atomically, so the tests and the local stack serialise moto's DynamoDB requests to match.
Likewise two concurrent ``ReceiveMessage`` calls on one queue could both take the same visible
message in moto; SQS hides a received message from other receivers, so receives on one queue
are serialised (the local stack runs several pollers per queue, as Lambda does).
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
_PATCHED = False


def install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    _serialise_sqs_receives()
    _PATCHED = True


def _serialise_sqs_receives() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message
    locks: dict[str, threading.Lock] = {}
    guard = threading.Lock()

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        with guard:
            lock = locks.setdefault(queue_name, threading.Lock())
        with lock:
            return original(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
