"""Lazily created, cached boto3 clients (never at import time)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)

# DynamoDB checks every request itself (and answers a bad one with a ValidationException);
# botocore's client-side check of the same request costs more CPU than sending it: about 5 ms
# for a 25-item BatchWriteItem, 20 s of a 100,000-row results file's 4,000 write calls.
_UNCHECKED = {"dynamodb"}


@cache
def client(service: str) -> Any:
    config = _CONFIG.merge(Config(parameter_validation=False)) if service in _UNCHECKED else _CONFIG
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or credentials)."""
    client.cache_clear()
