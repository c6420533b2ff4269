"""Builds the repositories a use case needs from the settings (cached per container): the one
way every use case reaches AWS, API, upload, release and sender functions alike.

Each repository is built, and its module imported, the first time a use case asks for it: the
upload functions never touch the auth table or SES, the account function sends email only
for a password or email change, and none of that is imported at their cold start.
"""

from __future__ import annotations

import sys
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from exam_results.config import Settings, get_settings

if TYPE_CHECKING:
    from exam_results.repositories.auth import AuthRepository
    from exam_results.repositories.bulk_mailer import BulkMailer
    from exam_results.repositories.candidates import CandidateRepository
    from exam_results.repositories.exams import ExamRepository
    from exam_results.repositories.fanout import FanoutRepository
    from exam_results.repositories.mailer import Mailer
    from exam_results.repositories.queue import MailRequestQueue, NotifyQueue
    from exam_results.repositories.recipients import RecipientRepository
    from exam_results.repositories.uploads import UploadsRepository


class Deps:
    """The settings and the repositories over them (one instance per distinct settings)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def candidates(self) -> CandidateRepository:
        from exam_results.repositories.candidates import CandidateRepository

        return CandidateRepository(self.settings.data_table)

    @cached_property
    def exams(self) -> ExamRepository:
        from exam_results.repositories.exams import ExamRepository

        return ExamRepository(self.settings.data_table)

    @cached_property
    def auth(self) -> AuthRepository:
        from exam_results.repositories.auth import AuthRepository

        return AuthRepository(self.settings.auth_table)

    @cached_property
    def mailer(self) -> Mailer:
        from exam_results.repositories.mailer import Mailer

        return Mailer(self.settings.sender_email, self.settings.ses_configuration_set)

    @cached_property
    def mail_requests(self) -> MailRequestQueue:
        from exam_results.repositories.queue import MailRequestQueue

        return MailRequestQueue(self.settings.mail_queue_url)

    @cached_property
    def uploads(self) -> UploadsRepository:
        from exam_results.repositories.uploads import UploadsRepository

        return UploadsRepository(self.settings.data_table)

    @cached_property
    def fanout(self) -> FanoutRepository:
        from exam_results.repositories.fanout import FanoutRepository

        return FanoutRepository(self.settings.data_table)

    @cached_property
    def recipients(self) -> RecipientRepository:
        from exam_results.repositories.recipients import RecipientRepository

        return RecipientRepository(self.settings.data_table)

    @cached_property
    def bulk_mailer(self) -> BulkMailer:
        """The results email, many candidates a call (the sender function)."""
        from exam_results.repositories.bulk_mailer import BulkMailer

        return BulkMailer(
            self.settings.sender_email, self.settings.results_email_template, self.settings.ses_configuration_set
        )

    @cached_property
    def notify_queue(self) -> NotifyQueue:
        from exam_results.repositories.queue import NotifyQueue

        return NotifyQueue(self.settings.notify_queue_url)

    def pepper(self) -> bytes:
        from exam_results.repositories.pepper import get_pepper

        return get_pepper(self.settings.pepper_secret_arn)


@lru_cache(maxsize=4)
def _deps_for(settings: Settings) -> Deps:
    return Deps(settings)


def deps() -> Deps:
    return _deps_for(get_settings())


def reset_deps() -> None:
    """Forgets this process's repositories, boto3 clients and pepper (SnapStart: a restored
    environment fetches its own on first use, exam_results.snapstart)."""
    _deps_for.cache_clear()
    aws = sys.modules.get("exam_results.repositories.aws")
    if aws is not None:  # never imported here: boto3 stays out of a cold start that has no client
        aws.reset_clients()
    pepper = sys.modules.get("exam_results.repositories.pepper")
    if pepper is not None:
        pepper.get_pepper.cache_clear()
