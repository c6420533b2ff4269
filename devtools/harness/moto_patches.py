"""Every change this repository makes to moto's internals, in one place: re-check them when the
moto pin in ``requirements-dev.txt`` moves (both reach into private moto classes).

* ``serialise_requests()`` (the tests and the local stack): moto's DynamoDB and SQS handle one
  request at a time, as the real services apply each request atomically. moto's backends are
  plain Python with no locking: under threads a conditional update can interleave with another
  request, and two concurrent ReceiveMessage calls can hand out the same message (and then lose
  another). Handlers still run at once.
* ``transactions_per_item(monkeypatch)`` (autouse in tests/integration/notify and .../release):
  ``TransactWriteItems`` at the cost of the items it touches, not of the whole table. moto 5 backs up a transaction by
  deep-copying the whole table once per action (50 copies of a 60,000-item table for one
  50-candidate claim: tens of seconds), then restores the copy if the transaction is cancelled.
  This keeps moto's own code for everything else (validation, conditions, writes,
  ``CancellationReasons``) and only replaces that backup: the items the actions touch are copied
  before and put back if the call raises. ``serialise_requests`` keeps every other DynamoDB
  request out in between, as with DynamoDB.
"""

from __future__ import annotations

import copy
import threading
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

# ------------------------------------------------------------------ one request at a time

_LOCKS = {"dynamodb": threading.RLock(), "sqs": threading.RLock()}
_SERIALISED = False


def _serialise(handler: Any, lock: threading.RLock) -> None:
    original = handler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    handler.call_action = call_action


def serialise_requests() -> None:
    global _SERIALISED
    if _SERIALISED:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.responses import SQSResponse

    _serialise(DynamoHandler, _LOCKS["dynamodb"])
    _serialise(SQSResponse, _LOCKS["sqs"])
    _SERIALISED = True


# ------------------------------------------------------------------ transactions per item

_real_deepcopy = copy.deepcopy


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            if table.range_key_attr:
                if table.range_key_attr not in key:
                    continue
                range_key = DynamoType(key[table.range_key_attr])
                current = table.items.get(hash_key, {}).get(range_key)
            else:
                range_key = None
                current = table.items.get(hash_key)
            saved.append((table, hash_key, range_key, _real_deepcopy(current)))
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items.setdefault(hash_key, {})[range_key] = item


def transactions_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else _real_deepcopy(value, memo)

    copy_without_tables = types.SimpleNamespace(deepcopy=deepcopy_but_tables, copy=copy.copy)
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _touched(self, transact_items)
        models.copy = copy_without_tables
        try:
            original(self, transact_items)
        except BaseException:
            _restore(saved)
            raise
        finally:
            models.copy = copy

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)
