"""moto's ``TransactWriteItems`` at the cost of the items it touches, not of the whole table.

moto 5 backs up a transaction by deep-copying the whole table once per action (50 copies of a
60,000-item table for one 50-candidate claim: tens of seconds), then restores the copy if the
transaction is cancelled. This keeps moto's own code for everything else (validation, conditions,
writes, ``CancellationReasons``) and only replaces that backup: the items the actions touch
are copied before and put back if the call raises. ``devtools.moto_atomic`` serialises moto's
DynamoDB requests, so nothing else runs in between, as with DynamoDB.
"""

from __future__ import annotations

import copy
import types
from typing import Any

import pytest
from moto.dynamodb import models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_real_deepcopy = copy.deepcopy


def _deepcopy_but_tables(value: Any, memo: Any = None) -> Any:
    return value if isinstance(value, Table) else _real_deepcopy(value, memo)


_COPY_WITHOUT_TABLES = types.SimpleNamespace(deepcopy=_deepcopy_but_tables, copy=copy.copy)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Table, Any, Any, Any]]:
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


def _restore(saved: list[tuple[Table, Any, Any, Any]]) -> None:
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


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _touched(self, transact_items)
        models.copy = _COPY_WITHOUT_TABLES  # type: ignore[assignment]
        try:
            original(self, transact_items)
        except BaseException:
            _restore(saved)
            raise
        finally:
            models.copy = copy

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)
