"""Cold start: init time of each function's handler against a bare ``import boto3`` + one client.

For every function of ``template.yaml``, a fresh Python process gets the function's template
environment (resources named as CloudFormation would, nothing is called), the function's code
directory and its layers on ``sys.path`` (as Lambda lays out ``/var/task`` and ``/opt/python``),
and measures, inside the process, the time to import the handler module. The baseline, in the
same run, is a fresh process doing ``import boto3`` and creating one DynamoDB client. Each is
run several times; the median counts. Goal: each handler at most 1.3× the baseline.

    python -m benchmarks.cold_start [--runs 7] [--goal 1.3] [--strict] [--importtime FUNCTION] [--json FILE]

With ``--strict`` it exits 1 if a handler misses the goal. Interpreter start-up is outside both
measurements; so is the creation of the handler's clients (lazy, on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.stack import Stack  # noqa: E402

CHILD = r"""
import sys, time
t0 = time.perf_counter()
{body}
t1 = time.perf_counter()
print("INIT_MS", (t1 - t0) * 1000)
"""

BASELINE = """
import boto3
boto3.client("dynamodb")
"""

HANDLER = """
import importlib.util
spec = importlib.util.spec_from_file_location("handler_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, {attr!r})
"""


class _Placeholders(dict):  # type: ignore[type-arg]
    def __missing__(self, key: tuple[str, str]) -> str:
        logical, attr = key
        return f"arn:aws:local:eu-west-2:123456789012:{logical}-{attr}".lower()


def dry_stack() -> Stack:
    """The template's functions with resources named but nothing created (no AWS calls)."""
    stack = Stack(parameters={})
    stack.attrs = _Placeholders(stack.attrs)
    stack.resolver.attrs = stack.attrs
    stack._name_resources(stack.resources)
    for logical in stack.resources:
        stack.refs.setdefault(logical, f"{logical.lower()}-bench")
    return stack


def _base_env() -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "eu-west-2",
            "AWS_DEFAULT_REGION": "eu-west-2",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def run_child(
    body: str, env: dict[str, str], path: list[str], extra_args: list[str] | None = None
) -> tuple[float, str]:
    env = {**env, "PYTHONPATH": os.pathsep.join(path)}
    out = subprocess.run(
        [sys.executable, *(extra_args or []), "-c", CHILD.format(body=body)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        timeout=120,
    )
    line = next(line for line in out.stdout.splitlines() if line.startswith("INIT_MS"))
    return float(line.split()[1]), out.stderr


def measure(runs: int) -> dict[str, Any]:
    """Rounds of one baseline process then one process per function (interleaved, so that a
    change of load on the machine touches the baseline and the handlers alike)."""
    stack = dry_stack()
    base_env = _base_env()
    jobs: dict[str, tuple[str, dict[str, str], list[str]]] = {"baseline": (BASELINE, base_env, [])}
    for logical, spec in stack.functions().items():
        module, _, attr = spec.handler.rpartition(".")
        path = spec.code_uri / (module.replace(".", "/") + ".py")
        env = {**base_env, **spec.env, "AWS_LAMBDA_FUNCTION_NAME": spec.name}
        sys_path = [str(spec.code_uri), *(str(layer) for layer in spec.layers)]
        jobs[logical] = (HANDLER.format(path=str(path), attr=attr), env, sys_path)
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(runs):
        for name, (body, env, sys_path) in jobs.items():
            times[name].append(run_child(body, env, sys_path)[0])
    baseline = statistics.median(times.pop("baseline"))
    return {
        "runs": runs,
        "baseline_ms": round(baseline, 1),
        "functions": {
            name: {
                "median_ms": round(statistics.median(ts), 1),
                "min_ms": round(min(ts), 1),
                "ratio": round(statistics.median(ts) / baseline, 2),
            }
            for name, ts in times.items()
        },
    }


def import_profile(logical: str, top: int = 15) -> list[tuple[float, str]]:
    """The slowest imports (cumulative µs) of one handler, from ``python -X importtime``."""
    stack = dry_stack()
    spec = stack.functions()[logical]
    module, _, attr = spec.handler.rpartition(".")
    path = spec.code_uri / (module.replace(".", "/") + ".py")
    env = {**_base_env(), **spec.env}
    sys_path = [str(spec.code_uri), *(str(layer) for layer in spec.layers)]
    _ms, stderr = run_child(HANDLER.format(path=str(path), attr=attr), env, sys_path, ["-X", "importtime"])
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _self, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
            if cumulative.isdigit():
                rows.append((int(cumulative) / 1000, name))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--goal", type=float, default=1.3)
    parser.add_argument("--importtime", metavar="FUNCTION", help="show the slowest imports of one function")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a handler misses the goal")
    args = parser.parse_args(argv)
    if args.importtime:
        for ms, name in import_profile(args.importtime):
            print(f"{ms:8.1f} ms  {name}")
        return 0
    results = measure(args.runs)
    print(f"python {sys.version.split()[0]}, median of {args.runs} fresh processes each")
    print(f"{'baseline: import boto3 + one client':42} {results['baseline_ms']:8.1f} ms")
    failed = []
    for logical, figures in results["functions"].items():
        mark = "ok" if figures["ratio"] <= args.goal else f"OVER {args.goal}x"
        print(f"{logical:42} {figures['median_ms']:8.1f} ms  {figures['ratio']:5.2f}x  {mark}")
        if figures["ratio"] > args.goal:
            failed.append(logical)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
