"""Opaque random tokens (sessions, email confirmation, password reset, email change), stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32  # 256 bits
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

SESSION_TTL = 60 * 60
CONFIRMATION_TTL = 24 * 60 * 60
RESET_TTL = 60 * 60
EMAIL_CHANGE_TTL = 24 * 60 * 60


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_generation() -> str:
    """An account's credential generation (models.Account.generation): random, not a counter."""
    return secrets.token_hex(16)


def well_formed(token: str) -> bool:
    return bool(_TOKEN_RE.match(token))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()
