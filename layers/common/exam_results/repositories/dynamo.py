"""Small helpers over the low-level DynamoDB client: (de)serialisation, transactions, errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from exam_results.repositories.aws import client

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


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


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
