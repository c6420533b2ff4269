"""Domain records kept in DynamoDB, as typed models.

Built on first use (``defer_build``); no ``from __future__ import annotations``, which would make
pydantic evaluate every annotation string again at import (docs/performance.md, cold start).
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Format = Literal["PB", "CB"]
SessionStatus = Literal["open", "released"]
TokenKind = Literal["session", "confirm", "reset", "email_change"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class Entry(_Record):
    """One candidate in one exam session, from the exam board's entries file."""

    id_number: str
    session_id: str
    secret_hash: str
    candidate_number: str
    candidate_name: str
    date_of_birth: date
    centre_number: str
    centre_name: str


class Account(_Record):
    id_number: str
    email: str
    password_hash: str
    terms_accepted_at: datetime
    newsletter_opt_in: bool = False
    newsletter_changed_at: datetime | None = None
    # The language of every email and document for this account (exam_results.i18n).
    language: str = "en"
    email_confirmed_at: datetime | None = None
    created_at: datetime
    # Credential generation: random, new at registration and at every credential change (a
    # reset, a password change, a confirmed email change). A token is good only for the
    # generation it was issued for, so a change ends
    # everything issued before it, and an ID registered again starts from a value no old token
    # carries. None: an item stored before generations existed; tokens stored then have None
    # too and stay good until the account's first change gives it a generation.
    generation: str | None = None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None


class ExamSession(_Record):
    session_id: str
    exam_code: str
    exam_date: date
    format: Format
    results_available_by: datetime
    status: SessionStatus = "open"
    released_at: datetime | None = None
    # Faster results (SPEC §6): an earlier release the exam board set with a releases/ file,
    # and that file's key. results_available_by stays the promise; release_at is the plan.
    release_at: datetime | None = None
    release_set_by: str | None = None

    @property
    def release_time(self) -> datetime:
        """When the schedule releases the session: ``release_at`` if set and earlier, else
        ``results_available_by``."""
        if self.release_at is not None and self.release_at < self.results_available_by:
            return self.release_at
        return self.results_available_by


class Result(_Record):
    id_number: str
    session_id: str
    overall_score: int
    grade: str
    cefr_level: str | None = None
    skills: dict[str, int]


class TokenRecord(_Record):
    token_hash: str
    kind: TokenKind
    id_number: str
    generation: str | None  # the account's when issued (None: see Account.generation)
    created_at: float
    expires_at: int
    email: str | None = None  # email_change: the new address, set when the link is used

    def live(self, now: float) -> bool:
        return self.expires_at > now
