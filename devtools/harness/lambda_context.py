"""What Lambda passes as ``context``: the harness's in-process invocations and the local server's
containers both build it. Standard library only: a container imports it before its handler."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Context:
    """What Lambda passes as ``context``, enough for Powertools."""

    function_name: str
    memory_limit_in_mb: int
    timeout: int
    invoked_function_arn: str = ""
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
