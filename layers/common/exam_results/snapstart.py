"""SnapStart for the API functions (template parameter ``SnapStart``): what runs before Lambda
snapshots an initialised environment, and after it resumes one from the snapshot.

Before the snapshot, everything a first request would import or build is done: every route's
use cases (``exam_results.lazy``), our pydantic models' validators and the resolver's request
validation (its OpenAPI schema builds each route's models). Nothing secret or unique stays in the
snapshot, which every restored environment shares: no boto3 client (it holds the credentials of
the snapshot's environment), no pepper, no repositories; tokens are drawn from ``secrets`` when
used. After a restore the same caches are emptied again and ``random`` is re-seeded, so each
environment fetches its own pepper and creates its own clients on first use.

The hooks are registered only when Lambda initialises for a snapshot
(``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``), where the runtime provides
``snapshot_restore_py``; otherwise nothing is imported and a cold start is unchanged.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from exam_results import lazy
from exam_results.wiring import reset_deps

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

SNAPSHOT_INIT = "snap-start"  # AWS_LAMBDA_INITIALIZATION_TYPE while Lambda initialises for a snapshot


def build_models() -> list[str]:
    """Builds the validator of every pydantic model of ours that is not built yet (they defer it
    to first use: ``defer_build``); returns their names."""
    from pydantic import BaseModel

    built = []
    todo = list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model.__module__.startswith("exam_results.") and not model.__pydantic_complete__:
            model.model_rebuild(force=True)
            built.append(f"{model.__module__}.{model.__qualname__}")
    return built


def before_snapshot(app: APIGatewayRestResolver) -> None:
    lazy.load_all()
    build_models()
    app.get_openapi_schema()  # builds each route's request and response models (validation)
    reset_deps()


def after_restore() -> None:
    import random

    reset_deps()
    random.seed()  # from os.urandom: restored environments must not share a random sequence


def register(app: APIGatewayRestResolver) -> bool:
    """Registers the hooks when Lambda is initialising for a snapshot; returns whether it did."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAPSHOT_INIT:
        return False
    try:
        import snapshot_restore_py  # provided by Lambda's Python runtimes
    except ImportError:
        return False
    snapshot_restore_py.register_before_snapshot(before_snapshot, app)
    snapshot_restore_py.register_after_restore(after_restore)
    return True
