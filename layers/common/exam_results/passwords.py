"""The password policy and password hashing: the one home of both rules (SPEC §4)."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_LETTERS = 1
MIN_DIGITS = 2

# OWASP's Argon2id baseline: m=19 MiB, t=2, p=1.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

# A hash of a random password nobody knows, with the same parameters: verifying against it costs
# what a real verification costs, so an unknown ID Number takes as long as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$Ao8BpcwztCzacwtYUxgu6w$q6kPWI42lPVH6K+iGErIhUAjpJsyimTv1odTBsEEnQs"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """zxcvbn's maintained list of the 30,000 most common passwords (loaded on first use)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def policy_problems(password: str) -> list[str]:
    """Every rule of the policy this password breaks, as catalogue keys (the sentences take
    ``min_length`` and ``max_length``)."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append("password.min_length")
    if len(password) > MAX_LENGTH:
        problems.append("password.max_length")
    if sum(ch.isalpha() for ch in password) < MIN_LETTERS:
        problems.append("password.letter")
    if sum(ch.isdecimal() for ch in password) < MIN_DIGITS:
        problems.append("password.digits")
    if not password.isprintable():
        problems.append("password.printable")
    if password.lower() in _common_passwords():
        problems.append("password.common")
    return problems


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not there is a stored hash (no user enumeration by timing)."""
    try:
        ok = _HASHER.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
