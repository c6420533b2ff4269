"""`sam build` (no container) produces artefacts that import cleanly on python3.13 the way
Lambda loads them: the function's code at the root, the common layer under /opt/python, and
only what the Lambda runtime itself provides (boto3) besides."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"
# What the python3.13 Lambda runtime puts on sys.path besides the function and its layers.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    assert SAM.exists(), "SAM CLI missing: run `make test` (it installs .venv-sam) or `make build`"
    python313 = shutil.which("python3.13")
    assert python313, "sam build needs python3.13 with pip on PATH (pyenv, selected by .python-version)"
    out = tmp_path_factory.mktemp("sam") / "build"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "SAM_CLI_DISABLE_UPDATE_CHECK": "1"}
    proc = subprocess.run(
        [str(SAM), "build", "--template", "template.yaml", "--build-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def python313() -> str:
    """The real python3.13 binary (pyenv's shim resolves it only inside the repository)."""
    return subprocess.run(
        ["python3.13", "-c", "import sys; print(sys.executable)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def runtime(tmp_path_factory) -> Path:
    """A directory holding only the packages the Lambda python3.13 runtime ships."""
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    target = tmp_path_factory.mktemp("runtime")
    for name in RUNTIME_PACKAGES:
        assert (site / name).exists(), name
        (target / name).symlink_to(site / name)
    return target


def test_layer_is_where_lambda_looks_for_it(built):
    layer = built / "CommonLayer" / "python"  # unpacked by Lambda at /opt/python
    assert (layer / "exam_results" / "__init__.py").exists()
    for dependency in (
        "aws_lambda_powertools",
        "pydantic",
        "argon2",
        "zxcvbn",
        "tzdata",
        "fpdf",
        "fontTools",
        "anyascii",
        "PIL",
    ):
        assert (layer / dependency).exists(), dependency
    assert list((layer / "exam_results" / "fonts").glob("*.ttf"))  # Confirmation of Entry fonts
    assert not (layer / "boto3").exists()  # the runtime provides it


def test_every_function_imports_with_python313_as_lambda_loads_it(built, runtime):
    from moto import mock_aws

    with mock_aws():  # generated resource names for the environment, as CloudFormation would
        functions = Stack().provision().functions()
    assert functions
    for logical_id, spec in functions.items():
        code = built / logical_id
        module, _, attr = spec.handler.rpartition(".")
        probe = (
            "import sys, json, importlib;"
            f"sys.path[:0] = {[str(code), str(built / 'CommonLayer' / 'python'), str(runtime)]!r};"
            f"m = importlib.import_module({module!r}); assert callable(getattr(m, {attr!r}));"
            "print(json.dumps(sorted(k for k in sys.modules if k.split('.')[0] in "
            "('exam_results', 'aws_lambda_powertools', 'pydantic', 'argon2'))[:3]))"
        )
        env = {
            "PATH": os.environ["PATH"],
            "AWS_REGION": "eu-west-2",
            "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_LAMBDA_FUNCTION_NAME": logical_id,
            **{k: v for k, v in spec.env.items()},
        }
        proc = subprocess.run(
            [python313(), "-I", "-S", "-c", probe],
            cwd=code,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"{logical_id}: {proc.stderr[-2000:]}"
        assert json.loads(proc.stdout.strip().splitlines()[-1]), logical_id
