"""Builds the repositories a use case needs from the settings (cached per container)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from exam_results.config import Settings, get_settings
from exam_results.repositories.auth import AuthRepository
from exam_results.repositories.candidates import CandidateRepository
from exam_results.repositories.exams import ExamRepository
from exam_results.repositories.mailer import Mailer
from exam_results.repositories.pepper import get_pepper


@dataclass(frozen=True)
class Deps:
    settings: Settings
    candidates: CandidateRepository
    exams: ExamRepository
    auth: AuthRepository
    mailer: Mailer

    def pepper(self) -> bytes:
        return get_pepper(self.settings.pepper_secret_arn)


@lru_cache(maxsize=4)
def _deps_for(settings: Settings) -> Deps:
    return Deps(
        settings=settings,
        candidates=CandidateRepository(settings.data_table),
        exams=ExamRepository(settings.data_table),
        auth=AuthRepository(settings.auth_table),
        mailer=Mailer(settings.sender_email, settings.ses_configuration_set),
    )


def deps() -> Deps:
    return _deps_for(get_settings())
