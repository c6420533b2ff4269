"""Make moto's DynamoDB handle one request at a time, as DynamoDB applies each atomically.

moto's DynamoDB backend is plain Python with no locking: under threads a conditional update
can interleave with another request. DynamoDB itself applies every request (and transaction)
atomically, so the tests and the local stack serialise moto's DynamoDB requests to match.
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
    _PATCHED = True
