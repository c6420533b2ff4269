"""Secret Numbers: kept only as keyed hashes (HMAC-SHA256 with a pepper from Secrets Manager).

A 4–8 digit secret hashed without a key could be brute-forced from a stolen table in minutes;
the pepper lives outside the table, so the table alone reveals nothing. HMAC keeps imports of
hundreds of thousands of rows fast, which a password hash would not.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

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


def generate_secret() -> str:
    """An 8-digit Secret Number from a cryptographically secure generator."""
    return f"{secrets.randbelow(10**GENERATED_SECRET_DIGITS):0{GENERATED_SECRET_DIGITS}d}"
