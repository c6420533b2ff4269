"""Builds the stack of ``template.yaml`` on an AWS emulator (moto) and runs its functions.

* ``Stack.provision()`` creates every table, bucket, queue, secret, SES identity and template
  the template declares, with generated physical names, as CloudFormation would.
* ``Stack.invoke(logical_id, event)`` runs a function's handler in this process with the
  environment, handler path and layers the template gives it. Invocations may run at once in
  threads (no lock around handlers): each sees only its own function's environment (``os.environ``
  reads go to the running invocation's copy, a context variable), as each Lambda container does.
  The local stack runs them in worker processes instead (``devtools.local.containers``).
* ``Stack.api_routes()`` lists the API routes (method, path, function) the template declares.

Used by the tests and by the local stack (``make run``); nothing here is deployed.
"""

from __future__ import annotations

import contextvars
import importlib.util
import json
import os
import secrets
import string
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

from devtools.harness.lambda_context import Context
from devtools.harness.template import ROOT, TEMPLATE, Resolver, load

REGION = "eu-west-2"
ACCOUNT = "123456789012"

_ENV_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()
_LAMBDA_KEYS = {"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}
_INVOCATION_ENV: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("invocation_env", default=None)


class _InvocationEnviron(MutableMapping[str, str]):
    """``os.environ`` while functions run in this process: inside ``Stack.invoke``, the running
    invocation's own environment (a context variable, so threads running different functions at
    once each see their own), outside it the process's. Writes stay where they are made."""

    def __init__(self, process: MutableMapping[str, str]) -> None:
        self.process = process

    def _current(self) -> MutableMapping[str, str]:
        env = _INVOCATION_ENV.get()
        return self.process if env is None else env

    def __getitem__(self, key: str) -> str:
        return self._current()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._current()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._current()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def copy(self) -> dict[str, str]:
        return dict(self._current())


def _process_environ() -> MutableMapping[str, str]:
    """The process's own environment, with ``os.environ`` made invocation-aware (once)."""
    with _ENV_LOCK:
        current: MutableMapping[str, str] = os.environ
        if not isinstance(current, _InvocationEnviron):
            current = _InvocationEnviron(current)
            os.environ = current  # type: ignore[assignment]  # noqa: B003 (a view, not a new environment)
        return current.process


_METRICS_LOCK = threading.RLock()


def serialise_metric_bookkeeping() -> None:
    """Powertools keeps one metric set per process: one per container on Lambda, where no other
    invocation runs while a handler flushes it. Threads of this harness share it, and a flush
    racing another thread's clear raised 'Must contain at least one metric' (a 502 here, never on
    Lambda). Only adding and flushing metrics is serialised, never a handler's work."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    provider: Any = AmazonCloudWatchEMFProvider
    if getattr(provider, "_harness_serialised", False):
        return
    for name in ("add_metric", "add_dimension", "add_metadata", "flush_metrics", "clear_metrics"):
        original = getattr(provider, name)

        def locked(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _METRICS_LOCK:
                return _original(*args, **kwargs)

        setattr(provider, name, locked)
    provider._harness_serialised = True


# Called around every ``Stack.invoke`` with (stack, logical id): each returns a context manager
# entered for the invocation (``devtools.harness.aws_calls`` attributes AWS calls to the function).
INVOKE_HOOKS: list[Callable[[Stack, str], AbstractContextManager[Any]]] = []


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_uri: Path
    handler: str
    env: dict[str, str]
    layers: list[Path]
    timeout: int
    memory: int
    events: dict[str, Any]
    policies: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str


def _suffix() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))


class Stack:
    def __init__(
        self,
        template_path: Path = TEMPLATE,
        parameters: dict[str, str] | None = None,
        stack_name: str = "exam-results-local",
        session: boto3.Session | None = None,
    ) -> None:
        self.template = load(template_path)
        self.stack_name = stack_name
        self.session = session or boto3.Session(region_name=REGION)
        self.region = self.session.region_name or REGION
        params = {name: str(spec.get("Default", "")) for name, spec in self.template.get("Parameters", {}).items()}
        params.update(parameters or {})
        self.refs: dict[str, str] = {}
        self.attrs: dict[tuple[str, str], str] = {}
        self.resolver = Resolver(
            self.template,
            params,
            {
                "AWS::Region": self.region,
                "AWS::AccountId": ACCOUNT,
                "AWS::StackName": stack_name,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": "",
            },
            self.refs,
            self.attrs,
        )
        self._modules: dict[str, ModuleType] = {}
        self._env_keys = set()
        self.provisioned = False

    # ------------------------------------------------------------------ template reading

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template["Resources"])

    def of_type(self, type_name: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    def physical(self, logical_id: str) -> str:
        return self.refs[logical_id]

    def _arn(self, service: str, kind: str, name: str) -> str:
        sep = ":" if service in {"sqs", "sns", "lambda"} else "/"
        if service == "s3":
            return f"arn:aws:s3:::{name}"
        if service == "sqs" or service == "sns":
            return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{name}"
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{kind}{sep}{name}"

    # ------------------------------------------------------------------ provisioning

    def provision(self) -> Stack:
        """Create every resource on the emulator the session points at (moto)."""
        pending = dict(self.resources)
        self._name_resources(pending)
        for _ in range(6):
            progressed = False
            for logical, resource in list(pending.items()):
                try:
                    self._create(logical, resource)
                except KeyError:
                    continue
                pending.pop(logical)
                progressed = True
            if not pending or not progressed:
                break
        if pending:
            raise RuntimeError(f"could not provision: {sorted(pending)}")
        for spec in self.functions().values():
            self._env_keys.update(spec.env)
        self._env_keys.update(_LAMBDA_KEYS)
        self.provisioned = True
        return self

    def _name_resources(self, resources: dict[str, Any]) -> None:
        """Physical names and attributes of resources whose names CloudFormation generates."""
        for logical, resource in resources.items():
            kind = resource["Type"]
            generated = f"{self.stack_name}-{logical}-{_suffix()}"
            if kind == "AWS::Serverless::Function":
                self.refs[logical] = generated[:64]
                self.attrs[(logical, "Arn")] = self._arn("lambda", "function", generated[:64])
            elif kind == "AWS::Serverless::Api":
                api_id = _suffix().lower()[:10]
                self.refs[logical] = api_id
                self.attrs[(logical, "RootResourceId")] = _suffix().lower()[:10]
            elif kind == "AWS::DynamoDB::Table":
                self.refs[logical] = generated
                self.attrs[(logical, "Arn")] = self._arn("dynamodb", "table", generated)
                self.attrs[(logical, "StreamArn")] = self._arn("dynamodb", "table", generated) + "/stream/x"
            elif kind in {"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"}:
                self.refs[logical] = self._arn("lambda", "layer", logical) + ":1"
            elif kind in {"AWS::SQS::Queue", "AWS::S3::Bucket", "AWS::SecretsManager::Secret"}:
                continue  # named when created
            else:
                self.refs[logical] = generated
                self.attrs[(logical, "Arn")] = f"arn:aws:local:{self.region}:{ACCOUNT}:{generated}"
                self.attrs[(logical, "Name")] = generated

    def _create(self, logical: str, resource: dict[str, Any]) -> None:
        kind = resource["Type"]
        props = resource.get("Properties", {})
        handler: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::SQS::Queue": self._queue,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::SES::EmailIdentity": self._ses_identity,
            "AWS::SES::Template": self._ses_template,
        }
        if kind in handler:
            handler[kind](logical, props)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def _table(self, logical: str, props: dict[str, Any]) -> None:
        name = self.refs[logical]
        props = self.resolver.resolve(props)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = [
                {k: v for k, v in gsi.items() if k in {"IndexName", "KeySchema", "Projection"}}
                for gsi in props["GlobalSecondaryIndexes"]
            ]
        ddb = self.client("dynamodb")
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )

    def _bucket(self, logical: str, props: dict[str, Any]) -> None:
        props = {k: v for k, v in props.items() if k != "NotificationConfiguration"}
        props = self.resolver.resolve(props)
        name = props.get("BucketName") or f"{self.stack_name}-{logical}-{_suffix()}".lower()
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        self.refs[logical] = name
        self.attrs[(logical, "Arn")] = self._arn("s3", "", name)
        self.attrs[(logical, "DomainName")] = f"{name}.s3.amazonaws.com"
        self.attrs[(logical, "RegionalDomainName")] = f"{name}.s3.{self.region}.amazonaws.com"

    def _queue(self, logical: str, props: dict[str, Any]) -> None:
        props = self.resolver.resolve(props)
        fifo = bool(props.get("FifoQueue"))
        name = props.get("QueueName") or f"{self.stack_name}-{logical}-{_suffix()}" + (".fifo" if fifo else "")
        attributes: dict[str, str] = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if key in props:
                attributes[key] = str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        self.refs[logical] = url
        self.attrs[(logical, "Arn")] = self._arn("sqs", "", name)
        self.attrs[(logical, "QueueName")] = name
        self.attrs[(logical, "QueueUrl")] = url

    def _secret(self, logical: str, props: dict[str, Any]) -> None:
        props = self.resolver.resolve(props)
        name = props.get("Name") or f"{logical}-{_suffix()}"
        value = props.get("SecretString") or secrets.token_hex(32)
        arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
        self.refs[logical] = arn
        self.attrs[(logical, "Id")] = arn

    def _ses_identity(self, logical: str, props: dict[str, Any]) -> None:
        identity = self.resolver.resolve(props["EmailIdentity"])
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        self.refs[logical] = identity

    def _ses_template(self, logical: str, props: dict[str, Any]) -> None:
        tmpl = self.resolver.resolve(props["Template"])
        name = tmpl.get("TemplateName") or f"{self.stack_name}-{logical}"
        self.client("ses").create_template(
            Template={
                "TemplateName": name,
                "SubjectPart": tmpl.get("SubjectPart", ""),
                "TextPart": tmpl.get("TextPart", ""),
                "HtmlPart": tmpl.get("HtmlPart", ""),
            }
        )
        self.refs[logical] = name

    # ------------------------------------------------------------------ functions

    def functions(self) -> dict[str, FunctionSpec]:
        return {lid: self.function(lid) for lid in self.of_type("AWS::Serverless::Function")}

    def function(self, logical_id: str) -> FunctionSpec:
        glob = self.template.get("Globals", {}).get("Function", {})
        props = {**glob, **self.resources[logical_id]["Properties"]}
        env = {
            **glob.get("Environment", {}).get("Variables", {}),
            **self.resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {}),
        }
        layers = []
        for layer in props.get("Layers", []):
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            if layer_id and layer_id in self.resources:
                layers.append(ROOT / self.resources[layer_id]["Properties"]["ContentUri"])
        name = self.refs.get(logical_id, logical_id)
        resolved_env = {k: str(self.resolver.resolve(v)) for k, v in env.items()}
        return FunctionSpec(
            logical_id=logical_id,
            name=name,
            code_uri=ROOT / props["CodeUri"],
            handler=props["Handler"],
            env=resolved_env,
            layers=layers,
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            events=props.get("Events", {}),
            policies=props.get("Policies", []),
        )

    def api_routes(self) -> list[Route]:
        routes = []
        for logical, spec in self.functions().items():
            for event in spec.events.values():
                if event.get("Type") == "Api":
                    p = event["Properties"]
                    routes.append(Route(p["Method"].upper(), p["Path"], logical))
        return routes

    def _load(self, spec: FunctionSpec) -> Callable[..., Any]:
        module_name, _, attr = spec.handler.rpartition(".")
        key = f"{spec.logical_id}:{module_name}"
        with _LOAD_LOCK:  # imported once, even when its first invocations run at once
            if key not in self._modules:
                for layer in spec.layers:
                    if str(layer) not in sys.path:
                        sys.path.insert(0, str(layer))
                path = spec.code_uri / (module_name.replace(".", "/") + ".py")
                unique = f"_fn_{spec.logical_id}_{module_name.replace('.', '_')}"
                module_spec = importlib.util.spec_from_file_location(unique, path)
                assert module_spec and module_spec.loader
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[unique] = module
                module_spec.loader.exec_module(module)
                self._modules[key] = module
        return getattr(self._modules[key], attr)  # type: ignore[no-any-return]

    def environment(self, spec: FunctionSpec, base: Mapping[str, str]) -> dict[str, str]:
        """What the function's process sees: ``base`` without any function's variables, then the
        template's variables of this function and Lambda's own."""
        env = {k: v for k, v in base.items() if k not in self._env_keys}
        env.update(spec.env)
        env["AWS_LAMBDA_FUNCTION_NAME"] = spec.name
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(spec.memory)
        env.setdefault("AWS_REGION", self.region)
        env.setdefault("AWS_DEFAULT_REGION", self.region)
        return env

    def _apply_env(self, spec: FunctionSpec) -> None:
        """Give the process this function's environment (fixtures and scripts that use the
        layer's code outside an invocation)."""
        process = _process_environ()
        with _ENV_LOCK:
            env = self.environment(spec, process)
            for key in set(process) - env.keys():
                del process[key]
            process.update(env)

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run the function's handler in this thread, with the template's environment."""
        spec = self.function(logical_id)
        serialise_metric_bookkeeping()
        process = _process_environ()
        with _ENV_LOCK:
            env = self.environment(spec, process)
        token = _INVOCATION_ENV.set(env)
        try:
            handler = self._load(spec)
            context = Context(
                function_name=spec.name,
                memory_limit_in_mb=spec.memory,
                timeout=spec.timeout,
                invoked_function_arn=self.attrs.get((logical_id, "Arn"), ""),
            )
            with ExitStack() as hooks:
                for hook in list(INVOKE_HOOKS):
                    hooks.enter_context(hook(self, logical_id))
                return handler(event, context)
        finally:
            _INVOCATION_ENV.reset(token)
