"""SnapStart hooks (exam_results.snapstart), called as Lambda calls them: before the snapshot every
route's lazy modules are imported and our models built, and nothing secret or per-environment
is left cached in it; after a restore the pepper, clients and repositories are fetched anew."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from pathlib import Path

import pytest

from devtools.harness import aws_calls
from devtools.harness.stack import ROOT, Stack
from tests.conftest import registration

API_FUNCTIONS = ("RegisterFunction", "LoginFunction", "AccountFunction", "ResultsFunction")

# In a fresh process, as Lambda initialises for a snapshot: import the handler, fill the caches a
# request fills (a client, the pepper, the repositories), then run the before-snapshot hook.
PROBE = r"""
import importlib.util, json, sys
from moto import mock_aws

with mock_aws():
    import boto3, os
    arn = boto3.client("secretsmanager").create_secret(Name="pepper", SecretString="p" * 64)["ARN"]
    os.environ["PEPPER_SECRET_ARN"] = arn
    spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)

    from pydantic import BaseModel
    from exam_results import lazy, snapstart
    from exam_results.wiring import deps

    def ours(cls=BaseModel):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("exam_results."):
                yield sub
            yield from ours(sub)

    names = [m.name for m in lazy.declared()]
    before = {
        "loaded": [n for n in names if n in sys.modules],
        "unbuilt": sorted({m.__qualname__ for m in ours() if not m.__pydantic_complete__}),
    }
    d = deps()
    d.pepper()
    d.candidates
    from exam_results.repositories import aws, pepper
    aws.client("dynamodb")
    snapstart.before_snapshot(handler.app)
    after = {
        "loaded": [n for n in names if n in sys.modules],
        "unbuilt": sorted({m.__qualname__ for m in ours() if not m.__pydantic_complete__}),
        "clients": aws.client.cache_info().currsize,
        "peppers": pepper.get_pepper.cache_info().currsize,
        "same_deps": deps() is d,
    }
print(json.dumps({"names": names, "before": before, "after": after}))
"""


@pytest.fixture(scope="module")
def specs():  # type: ignore[no-untyped-def]
    from moto import mock_aws

    with mock_aws():
        functions = Stack().provision().functions()
    return {name: functions[name] for name in API_FUNCTIONS}


@pytest.mark.parametrize("logical_id", API_FUNCTIONS)
def test_before_snapshot_imports_every_route_and_builds_the_models_but_caches_nothing_secret(specs, logical_id):
    spec = specs[logical_id]
    env = {
        "PATH": os.environ["PATH"],
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": logical_id,
        "PYTHONPATH": os.pathsep.join([str(spec.code_uri), *(str(layer) for layer in spec.layers), str(ROOT)]),
        **spec.env,
    }
    path = spec.code_uri / (spec.handler.rpartition(".")[0] + ".py")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["names"], "the handler declares its use cases lazily"
    assert out["before"]["loaded"] == [], "a cold start imports no use case"
    assert out["before"]["unbuilt"], "models are built on first use without SnapStart"
    assert out["after"]["loaded"] == out["names"]
    assert out["after"]["unbuilt"] == []
    # Nothing in the snapshot that is secret (the pepper), holds credentials (clients) or was
    # built over them (repositories): each restored environment fetches its own.
    assert out["after"]["clients"] == 0
    assert out["after"]["peppers"] == 0
    assert out["after"]["same_deps"] is False


def test_after_restore_fetches_the_pepper_again_and_reseeds_random(api, seed, mailbox):
    from exam_results import snapstart

    def pepper_reads(body):  # type: ignore[no-untyped-def]
        with aws_calls.capture() as captured:
            assert api.call("POST", "/registrations", body).status in {201, 409}
        return captured.count_by_operation().get("secretsmanager:GetSecretValue", 0)

    first, second = seed(), seed(id_number="ABC654321")
    assert pepper_reads(registration(first)) == 1  # a cold start reads it
    assert pepper_reads(registration(second, email="second@example.com")) == 0  # a warm one keeps it
    state = random.getstate()
    snapstart.after_restore()
    assert random.getstate() != state
    assert pepper_reads(registration(first)) == 1  # restored: read again, never from the snapshot


def test_hooks_are_registered_only_when_lambda_initialises_for_a_snapshot(monkeypatch):
    from exam_results import snapstart

    registered: list[tuple[str, object, tuple[object, ...]]] = []
    fake = types.ModuleType("snapshot_restore_py")
    fake.register_before_snapshot = lambda f, *a: registered.append(("before", f, a))  # type: ignore[attr-defined]
    fake.register_after_restore = lambda f, *a: registered.append(("after", f, a))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    app = object()

    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    assert snapstart.register(app) is False  # type: ignore[arg-type]
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    assert snapstart.register(app) is False  # type: ignore[arg-type]
    assert registered == []

    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    assert snapstart.register(app) is True  # type: ignore[arg-type]
    assert registered == [("before", snapstart.before_snapshot, (app,)), ("after", snapstart.after_restore, ())]


def test_every_api_function_registers_the_hooks():
    for name in ("register", "login", "account", "results"):
        source = (Path(ROOT) / "functions" / name / "app.py").read_text(encoding="utf-8")
        assert "register_snapstart_hooks(app)" in source, name
