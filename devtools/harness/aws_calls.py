"""Records every AWS API call a function makes, with the IAM actions and resources it needs.

``install()`` wraps botocore's ``BaseClient._make_api_call`` (one logical call, retries
excluded) and registers a ``devtools.harness.stack.INVOKE_HOOKS`` hook that marks which function is
running (a context variable set around ``Stack.invoke``). Calls made outside an invocation
(fixtures seeding tables, tests reading them) are counted but not attributed.

Each attributed call is stored *canonically*: the stack's generated physical names (tables,
buckets, queues, secrets) are replaced by ``{LogicalId}``, and the function's policies are
resolved with the same stack and canonicalised the same way, so calls from many tests (each
with its own stack) can be checked against one policy by ``devtools.harness.iam_check``.

    with capture() as calls:      # the calls attributed during the block
        api.call(...)
    calls.count_by_operation("RegisterFunction")
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from devtools.harness import stack as stack_module

_current: contextvars.ContextVar[tuple[Any, str] | None] = contextvars.ContextVar("aws_calls_fn", default=None)
_lock = threading.Lock()
_installed = False

# Service name (botocore) → IAM action prefix, where they differ.
_PREFIX = {"sesv2": "ses", "stepfunctions": "states", "monitoring": "cloudwatch"}


@dataclass(frozen=True)
class Need:
    """One IAM authorisation a call needs: an action on a resource, with condition context.

    ``resource`` may list alternatives separated by `` | `` (SES authorises a send against the
    address identity or its domain identity: either grant is enough).
    """

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    @property
    def alternatives(self) -> list[str]:
        return self.resource.split(" | ")

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "context": dict(self.context)}


@dataclass
class Call:
    function: str
    service: str
    operation: str
    needs: tuple[Need, ...]


@dataclass(eq=False)
class Calls:
    """A list of attributed calls, with the counts the tests assert."""

    items: list[Call] = field(default_factory=list)

    def of(self, function: str | None = None) -> list[Call]:
        return [c for c in self.items if function is None or c.function == function]

    def count_by_operation(self, function: str | None = None) -> dict[str, int]:
        return dict(Counter(f"{c.service}:{c.operation}" for c in self.of(function)))

    def total(self, function: str | None = None) -> int:
        return len(self.of(function))


class Recorder:
    """Everything recorded in this process: needs per function, policies, operation counts."""

    def __init__(self) -> None:
        self.needs: dict[str, Counter[Need]] = {}
        self.operations: dict[str, Counter[str]] = {}
        self.policies: dict[str, list[Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.unattributed = 0
        self.listeners: list[Calls] = []

    def policy_of(self, stack: Any, logical_id: str) -> None:
        if logical_id in self.policies:
            return
        spec = stack.function(logical_id)
        canon = _Canon(stack)
        resolved = [canon.value(stack.resolver.resolve(p)) for p in spec.policies]
        sources = []
        for event in spec.events.values():
            props = stack.resolver.resolve(event.get("Properties", {}))
            sources.append({"type": event.get("Type"), "properties": canon.value(props)})
        with _lock:
            self.policies.setdefault(logical_id, resolved)
            self.events.setdefault(logical_id, sources)

    def record(self, call: Call) -> None:
        with _lock:
            self.needs.setdefault(call.function, Counter()).update(call.needs)
            self.operations.setdefault(call.function, Counter())[f"{call.service}:{call.operation}"] += 1
            for listener in self.listeners:
                listener.items.append(call)

    def to_json(self) -> dict[str, Any]:
        with _lock:
            return {
                "functions": {
                    fn: {
                        "calls": dict(sorted(self.operations.get(fn, Counter()).items())),
                        "needs": sorted(
                            ({**need.as_json(), "count": n} for need, n in self.needs.get(fn, Counter()).items()),
                            key=lambda d: (d["action"], d["resource"]),
                        ),
                        "policies": self.policies.get(fn, []),
                        "events": self.events.get(fn, []),
                    }
                    for fn in sorted(set(self.policies) | set(self.needs))
                },
                "unattributed_calls": self.unattributed,
            }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")


RECORDER = Recorder()


class _Canon:
    """Physical names of one stack → ``{LogicalId}``."""

    def __init__(self, stack: Any) -> None:
        params = {str(v) for v in stack.resolver.parameters.values()}
        pairs: dict[str, str] = {}
        for logical, value in stack.refs.items():
            value = str(value)
            if value in params or len(value) < 8 or "://" in value:
                continue
            pairs[value] = "{" + logical + "}"
        for (logical, attr), value in stack.attrs.items():
            if attr == "QueueName":
                pairs[str(value)] = "{" + logical + "}"
        self.pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))

    def text(self, value: str) -> str:
        for physical, token in self.pairs:
            if physical in value:
                value = value.replace(physical, token)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


# ------------------------------------------------------------------ call → IAM needs


def _ddb_table_arn(region: str, account: str, table: str) -> str:
    if table.startswith("arn:"):
        return table
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}"


def _dynamodb(op: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    def arn(table: str, index: str | None = None) -> str:
        base = _ddb_table_arn(region, account, table)
        return f"{base}/index/{index}" if index else base

    if op == "TransactWriteItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        needs = []
        for entry in params.get("TransactItems", []):
            for kind, body in entry.items():
                needs.append(Need(f"dynamodb:{kinds[kind]}", arn(body["TableName"])))
        return needs
    if op == "TransactGetItems":
        return [Need("dynamodb:GetItem", arn(e["Get"]["TableName"])) for e in params.get("TransactItems", [])]
    if op in {"BatchGetItem", "BatchWriteItem"}:
        return [Need(f"dynamodb:{op}", arn(t)) for t in params.get("RequestItems", {})]
    if "TableName" in params:
        return [Need(f"dynamodb:{op}", arn(params["TableName"], params.get("IndexName")))]
    return [Need(f"dynamodb:{op}", "*")]


def _s3(op: str, params: dict[str, Any]) -> list[Need]:
    bucket = params.get("Bucket", "")
    key = params.get("Key")
    obj = f"arn:aws:s3:::{bucket}/{key}"
    versioned = bool(params.get("VersionId"))
    if op in {"GetObject", "HeadObject"}:
        return [Need("s3:GetObjectVersion" if versioned else "s3:GetObject", obj)]
    if op == "DeleteObject":
        return [Need("s3:DeleteObjectVersion" if versioned else "s3:DeleteObject", obj)]
    if op == "DeleteObjects":
        return [Need("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if op == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, dict):
            src = f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"
        else:
            src = "arn:aws:s3:::" + str(source).split("?", 1)[0].lstrip("/")
        return [Need("s3:GetObject", src), Need("s3:PutObject", obj)]
    if op in {"ListObjects", "ListObjectsV2", "HeadBucket"}:
        return [Need("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", str(params.get("Prefix", ""))),))]
    if op == "ListObjectVersions":
        return [
            Need("s3:ListBucketVersions", f"arn:aws:s3:::{bucket}", (("s3:prefix", str(params.get("Prefix", ""))),))
        ]
    if key is not None:
        action = {"GetObjectTagging": "s3:GetObjectTagging", "PutObjectTagging": "s3:PutObjectTagging"}.get(
            op, f"s3:{op}"
        )
        return [Need(action, obj)]
    return [Need(f"s3:{op}", f"arn:aws:s3:::{bucket}")]


def _sqs(op: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    if "QueueUrl" in params:
        name = urlparse(params["QueueUrl"]).path.rstrip("/").rsplit("/", 1)[-1]
    else:
        name = params.get("QueueName", "*")
    action = {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    }.get(op, op)
    return [Need(f"sqs:{action}", f"arn:aws:sqs:{region}:{account}:{name}")]


def _ses(op: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    source = str(params.get("Source") or params.get("FromEmailAddress") or "")
    address = source.rsplit("<", 1)[-1].rstrip(">").strip()
    context: list[tuple[str, str]] = [("ses:FromAddress", address)]
    needs = []
    if address:
        domain = address.rsplit("@", 1)[-1]
        # Authorised against the identity that sends: the address, or its domain.
        identities = (
            f"arn:aws:ses:{region}:{account}:identity/{address} | arn:aws:ses:{region}:{account}:identity/{domain}"
        )
        needs.append(Need(f"ses:{op}", identities, tuple(context)))
    else:
        needs.append(Need(f"ses:{op}", "*", tuple(context)))
    if params.get("ConfigurationSetName"):
        name = params["ConfigurationSetName"]
        needs.append(Need(f"ses:{op}", f"arn:aws:ses:{region}:{account}:configuration-set/{name}", tuple(context)))
    if params.get("Template"):
        needs.append(Need(f"ses:{op}", f"arn:aws:ses:{region}:{account}:template/{params['Template']}", tuple(context)))
    return needs


def needs_of(service: str, op: str, params: dict[str, Any], region: str, account: str) -> list[Need]:
    prefix = _PREFIX.get(service, service)
    if service == "dynamodb":
        return _dynamodb(op, params, region, account)
    if service == "s3":
        return _s3(op, params)
    if service == "sqs":
        return _sqs(op, params, region, account)
    if service in {"ses", "sesv2"}:
        return _ses(op, params, region, account)
    if service == "secretsmanager":
        secret = str(params.get("SecretId", "*"))
        if not secret.startswith("arn:"):
            secret = f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}"
        return [Need(f"secretsmanager:{op}", secret)]
    if service == "sns":
        return [Need(f"sns:{op}", str(params.get("TopicArn", "*")))]
    if service == "lambda":
        return [Need(f"lambda:{op}", str(params.get("FunctionName", "*")))]
    return [Need(f"{prefix}:{op}", "*")]


# ------------------------------------------------------------------ installation


_warm: set[tuple[int, str]] = set()


def _cold_start(stack: Any, logical_id: str) -> None:
    """A function's first invocation on a stack starts a new container: per-container caches of
    AWS data (the pepper) are emptied, so that each function makes the calls it makes in AWS."""
    key = (id(stack), logical_id)
    if key in _warm:
        return
    _warm.add(key)
    from exam_results.repositories.pepper import get_pepper

    get_pepper.cache_clear()


@contextmanager
def _invoking(stack: Any, logical_id: str) -> Iterator[None]:
    RECORDER.policy_of(stack, logical_id)
    _cold_start(stack, logical_id)
    token = _current.set((stack, logical_id))
    try:
        yield
    finally:
        _current.reset(token)


def install() -> Recorder:
    """Start recording in this process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return RECORDER
        _installed = True
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        current = _current.get()
        if current is None:
            RECORDER.unattributed += 1
        else:
            stack, logical_id = current
            service = self.meta.service_model.service_name
            canon = _Canon(stack)
            region = self.meta.region_name or stack.region
            needs = needs_of(service, operation_name, api_params, region, stack_module.ACCOUNT)
            canonical = tuple(
                Need(n.action, canon.text(n.resource), tuple((k, canon.text(v)) for k, v in n.context)) for n in needs
            )
            RECORDER.record(Call(logical_id, service, operation_name, canonical))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
    stack_module.INVOKE_HOOKS.append(_invoking)
    return RECORDER


@contextmanager
def capture() -> Iterator[Calls]:
    """The calls attributed to functions while the block runs (installs the recorder)."""
    install()
    calls = Calls()
    with _lock:
        RECORDER.listeners.append(calls)
    try:
        yield calls
    finally:
        with _lock:
            RECORDER.listeners.remove(calls)
