"""Make moto's DynamoDB and SQS handle one request at a time, as the real services apply each
request atomically.

moto's backends are plain Python with no locking: under threads a conditional update can
interleave with another request, and two concurrent ReceiveMessage calls can hand out the same
message (and then lose another). DynamoDB applies every request (and transaction) atomically,
and SQS hides a received message from every other receiver, so the tests and the local stack
serialise moto's requests to these two services to match. Handlers still run at once.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCKS = {"dynamodb": threading.RLock(), "sqs": threading.RLock()}
_PATCHED = False


def _serialise(handler: Any, lock: threading.RLock) -> None:
    original = handler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    handler.call_action = call_action


def install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.responses import SQSResponse

    _serialise(DynamoHandler, _LOCKS["dynamodb"])
    _serialise(SQSResponse, _LOCKS["sqs"])
    _PATCHED = True
