"""The pepper that keys Secret Number hashes, read once per container from Secrets Manager."""

from __future__ import annotations

from functools import lru_cache

from exam_results.repositories.aws import client


@lru_cache(maxsize=4)
def get_pepper(secret_arn: str) -> bytes:
    value = client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    return str(value).encode()
