"""Fixtures of the integration tests: the exam board's uploads bucket, the data table's items and
DynamoDB faults (the helpers themselves live in ``tests.helpers.uploads``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devtools.harness.stack import Stack
from tests.helpers.uploads import Board, Faults


@pytest.fixture
def board(stack: Stack) -> Board:
    return Board(stack)


@pytest.fixture
def table_items(stack: Stack) -> Callable[[str], list[dict[str, Any]]]:
    """Every item of the data table whose sk starts with ``prefix`` (a scan: tests only)."""
    from exam_results.repositories import dynamo

    def _items(prefix: str) -> list[dict[str, Any]]:
        ddb = stack.client("dynamodb")
        found: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": stack.physical("DataTable")}
        while True:
            page = ddb.scan(**kwargs)
            found.extend(r for r in (dynamo.plain(i) or {} for i in page["Items"]) if str(r["sk"]).startswith(prefix))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    return _items


@pytest.fixture
def faults(stack: Stack) -> Iterator[Faults]:
    injected = Faults()
    yield injected
    injected.close()
