"""Configuration: environment variables parsed once by a pydantic model.

Every resource name comes from the environment that ``template.yaml`` gives each function, so
the code never guesses a table, bucket or queue name.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    data_table: str = Field(alias="DATA_TABLE")
    auth_table: str = Field(alias="AUTH_TABLE")
    sender_email: str = Field(default="", alias="SENDER_EMAIL")
    web_base_url: str = Field(default="http://127.0.0.1:3000", alias="WEB_BASE_URL")
    pepper_secret_arn: str = Field(default="", alias="PEPPER_SECRET_ARN")
    uploads_bucket: str = Field(default="", alias="UPLOADS_BUCKET")
    notify_queue_url: str = Field(default="", alias="NOTIFY_QUEUE_URL")
    mail_queue_url: str = Field(default="", alias="MAIL_QUEUE_URL")
    results_email_template: str = Field(default="", alias="RESULTS_EMAIL_TEMPLATE")
    ses_configuration_set: str = Field(default="", alias="SES_CONFIGURATION_SET")

    def link(self, page: str, **query: str) -> str:
        """An absolute link to a candidate web page, built only from configuration."""
        from urllib.parse import urlencode

        base = self.web_base_url.rstrip("/")
        return f"{base}/{page}" + (f"?{urlencode(query)}" if query else "")


def _env_key() -> tuple[tuple[str, str], ...]:
    names = {f.alias for f in Settings.model_fields.values() if f.alias}
    return tuple(sorted((k, v) for k, v in os.environ.items() if k in names))


@lru_cache(maxsize=4)
def _settings_for(key: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.model_validate(dict(key))


def get_settings() -> Settings:
    """The settings of this process (parsed once per distinct environment)."""
    return _settings_for(_env_key())
