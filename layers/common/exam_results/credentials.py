"""Secret Numbers: kept only as keyed hashes (HMAC-SHA256 with a pepper from Secrets Manager).

A 4–8 digit secret hashed without a key could be brute-forced from a stolen table in minutes;
the pepper lives outside the table, so the table alone reveals nothing. HMAC keeps imports of
hundreds of thousands of rows fast, which a password hash would not.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ID_NUMBER_RE = re.compile(r"^[A-Za-z0-9]{6,12}$")
SECRET_NUMBER_RE = re.compile(r"^[0-9]{4,8}$")
GENERATED_SECRET_DIGITS = 8


def normalise_id(id_number: str) -> str:
    return id_number.strip().upper()


def hash_secret(pepper: bytes, id_number: str, secret_number: str) -> str:
    message = f"{normalise_id(id_number)}:{secret_number}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def verify_secret(pepper: bytes, stored_hash: str | None, id_number: str, secret: str) -> bool:
    """Constant work whether or not the ID Number exists."""
    candidate = hash_secret(pepper, id_number, secret)
    return hmac.compare_digest(candidate, stored_hash or "0" * 64) and stored_hash is not None


_GENERATION_LABEL = b"exam-results/generated-secret-number/v1"


def generation_key(pepper: bytes) -> bytes:
    """The key Secret Numbers are generated with: derived from the pepper (HMAC with a label of
    its own, so it is never the key the hashes are made with)."""
    return hmac.new(pepper, _GENERATION_LABEL, hashlib.sha256).digest()


def derive_secret(key: bytes, upload: str, id_number: str, counter: int = 0) -> str:
    """An 8-digit Secret Number for ``id_number``, issued by the upload ``upload`` (bucket, key
    and version of the entries file): HMAC-SHA256 under ``generation_key``, a pseudo-random
    function, reduced to 8 digits (the bias of 2**256 mod 10**8 is below 2**-200).

    Without the key the digits are as unpredictable as ``a random generator's; with the same
    inputs they are the same, so a retried import of one object version issues the very
    secrets a crashed attempt issued (and printed) instead of new ones. ``counter`` picks
    another secret for the same ID (to keep the secrets of one file distinct).
    """
    message = f"{upload}\n{normalise_id(id_number)}\n{counter}".encode()
    value = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest(), "big")
    return f"{value % 10**GENERATED_SECRET_DIGITS:0{GENERATED_SECRET_DIGITS}d}"
