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
    """Every item of the data table whose sk starts with ``prefix`` (a scan: tests only). An
    entry item is given as the entry in effect (``candidates.effective_fields``: its latest
    version of a published entries file), with its keys; one with none in effect is left out."""
    from exam_results.repositories import dynamo
    from exam_results.repositories.candidates import ENTRY_SK, effective_fields

    def _items(prefix: str) -> list[dict[str, Any]]:
        ddb = stack.client("dynamodb")
        everything: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": stack.physical("DataTable")}
        while True:
            page = ddb.scan(**kwargs)
            everything.extend(dynamo.plain(i) or {} for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        published = {str(r["pk"]).removeprefix("PUBLICATION#") for r in everything if r.get("status") == "published"}
        found: list[dict[str, Any]] = []
        for r in everything:
            if not str(r["sk"]).startswith(prefix):
                continue
            if r["sk"] == ENTRY_SK:
                fields = effective_fields(r, published)
                if fields is None:
                    continue
                r = {"pk": r["pk"], "sk": r["sk"], **fields}
            found.append(r)
        return found

    return _items


@pytest.fixture
def faults(stack: Stack) -> Iterator[Faults]:
    injected = Faults()
    yield injected
    injected.close()
