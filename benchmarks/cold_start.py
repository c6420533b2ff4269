"""Cold start: init time of each function's handler against a bare ``import boto3`` + one client.

For every function of ``template.yaml``, a fresh Python process gets the function's template
environment (resources named as CloudFormation would, nothing is called) and the ``sys.path``
Lambda gives it: the function's code directory (``/var/task``), its layer (``/opt/python``) and a
site directory holding only the layer's requirements and what the Lambda runtime provides
(boto3 and its dependencies), linked from this virtual environment (``python -I -S``, as
``tests/e2e/build`` imports the built functions: none of the development packages is visible).
Inside the process it measures the import of the handler module: its CPU time
(``time.process_time``) and its wall time. The baseline, in the same run, is a fresh process
doing ``import boto3`` and creating one DynamoDB client. Goal: each handler at most 1.25× the
baseline in instructions, as deployed (``tests/e2e/build`` asserts it); times are for information.

Built for a noisy machine (a shared VM whose CPU speed changes from one second to the next):

* every handler process runs between two baseline processes (B F₁ B F₂ B … Fₙ B, the functions
  in a new random order each round) and its ratio is taken against the mean of those two
  neighbours, a second or so away: a slow spell of the machine slows both sides alike;
* the figure is the median of these paired ratios over the rounds; their quartiles are shown;
* CPU time leaves out the time the process waits for a CPU (other work on the machine); on an
  idle machine it is within a few per cent of the wall time (both are shown). The goal is
  checked on the CPU ratio unless ``--metric wall``;
* one untimed round first, so that every file is in the page cache;
* ``--instructions`` counts the instructions each import executes instead (valgrind's
  callgrind, one process each, the interpreter's start-up subtracted): no noise at all, but
  blind to cache misses, so a cross-check of the timed ratios rather than a replacement;
  with ``--first-request`` each function's process then imports every route's modules
  (``exam_results.lazy``) and creates one client, as its first request does.

Three layouts of the code (``-B``: nothing writes bytecode while measuring):

* by default the template's sources, as a harness that runs ``template.yaml`` sees them: the
  exam_results sources are compiled in every process, the third-party packages use this
  environment's ``.pyc``;
* ``--built DIR`` a ``sam build`` output: ``make build``'s (``sam build`` then
  ``devtools.compile_build``: a ``.pyc`` for every module, what is deployed) or a bare
  ``sam build``'s (no ``.pyc`` at all: every module compiled at every cold start);

Two reference rows, with an API function's environment and ``sys.path`` and no code of ours,
show what the libraries cost by themselves: Powertools' REST resolver with request validation
(``enable_validation=True``, which imports pydantic and its OpenAPI machinery) plus Logger and
Metrics; and the same resolver without validation, with pydantic imported beside it.

    python -m benchmarks.cold_start [--runs 7] [--goal 1.3] [--metric cpu|wall] [--strict]
                                    [--instructions [--first-request]] [--built DIR]
                                    [--importtime FUNCTION]
                                    [--json FILE]

With ``--strict`` it exits 1 if a handler misses the goal. Interpreter start-up is outside every
measurement; so is the creation of the handler's clients (lazy, on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.harness.stack import Stack  # noqa: E402
from devtools.lambda_runtime import lambda_site, layer_requirements  # noqa: E402

# Before the clock starts: the function's sys.path, and the modules a normal start-up (``site``)
# loads, which ``-S`` leaves out (with ``-S``, importing ``site`` changes no path).
PRELUDE = "import sys\nsys.path[:0] = {path!r}\nimport site, time\n"

CHILD = (
    PRELUDE
    + r"""
w0 = time.perf_counter()
c0 = time.process_time()
{body}
c1 = time.process_time()
w1 = time.perf_counter()
print("INIT_MS", (w1 - w0) * 1000, (c1 - c0) * 1000)
"""
)

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

# What a cold request does beyond the handler's import, before its first AWS call: the modules of
# every route (the use cases an API function imports lazily, exam_results.lazy) and one client.
FIRST_REQUEST = """
from exam_results import lazy
lazy.load_all()
from exam_results.repositories.aws import client
client("dynamodb")
"""

# Reference rows (no code of ours): what the libraries an API function is built on cost by
# themselves, measured like the functions (never checked against the goal).
REFERENCE_CONTEXT = "RegisterFunction"
REFERENCE_PREFIX = "reference: "
REFERENCES = {
    f"{REFERENCE_PREFIX}resolver + validation": (
        "import boto3\n"
        "from aws_lambda_powertools import Logger, Metrics\n"
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "APIGatewayRestResolver(enable_validation=True)\n"
    ),
    f"{REFERENCE_PREFIX}resolver + pydantic": (
        "import boto3\n"
        "from aws_lambda_powertools import Logger, Metrics\n"
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "from pydantic import BaseModel\n"
        "APIGatewayRestResolver()\n"
    ),
}

METRICS = ("cpu", "wall")
PYTHON_FLAGS = ["-I", "-S", "-B"]


@dataclass(frozen=True)
class Job:
    body: str
    env: dict[str, str]
    path: list[str]


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
        }
    )
    return env


# -- the processes --


def jobs(workdir: Path, built: Path | None = None, first_request: bool = False) -> dict[str, Job]:
    """The baseline and one handler import per function of the template (``first_request``: then
    every route's modules and one client, as the first request imports and creates them)."""
    stack = dry_stack()
    base_env = _base_env()
    sites: dict[tuple[str, ...], Path] = {}

    def site(requirements: list[str]) -> Path:
        key = tuple(sorted(requirements))
        if key not in sites:
            sites[key] = lambda_site(workdir / f"site{len(sites)}", requirements)
        return sites[key]

    out = {"baseline": Job(BASELINE, base_env, [str(site([]))])}
    layer_ids = {
        (ROOT / resource["Properties"]["ContentUri"]).resolve(): logical
        for logical, resource in stack.resources.items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    }
    for logical, spec in stack.functions().items():
        module, _, attr = spec.handler.rpartition(".")
        if built is None:
            code, layers = spec.code_uri, list(spec.layers)
            runtime = site(layer_requirements(layers))
        else:  # sam build's output: the layer holds its requirements under python/
            code = built / logical
            layers = [built / layer_ids[layer.resolve()] / "python" for layer in spec.layers]
            runtime = site([])
        path = code / (module.replace(".", "/") + ".py")
        env = {**base_env, **spec.env, "AWS_LAMBDA_FUNCTION_NAME": spec.name}
        sys_path = [str(code), *(str(layer) for layer in layers), str(runtime)]
        body = HANDLER.format(path=str(path), attr=attr) + (FIRST_REQUEST if first_request else "")
        out[logical] = Job(body, env, sys_path)
    api = out.get(REFERENCE_CONTEXT)
    if api is not None:  # the libraries alone, with an API function's environment and sys.path
        for name, body in REFERENCES.items():
            out[name] = Job(body, api.env, api.path)
    return out


def run_child(job: Job, extra_args: list[str] | None = None) -> tuple[dict[str, float], str]:
    """One fresh process: ({"wall": ms, "cpu": ms} of the job's body, its stderr)."""
    out = subprocess.run(
        [sys.executable, *PYTHON_FLAGS, *(extra_args or []), "-c", CHILD.format(path=job.path, body=job.body)],
        env=job.env,
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
        timeout=120,
    )
    line = next(line for line in out.stdout.splitlines() if line.startswith("INIT_MS"))
    _tag, wall, cpu = line.split()
    return {"wall": float(wall), "cpu": float(cpu)}, out.stderr


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def measure(runs: int, warmup: int = 1, seed: int = 0, built: Path | None = None) -> dict[str, Any]:
    """``runs`` rounds of B F₁ B F₂ … B Fₙ B (functions shuffled each round), after ``warmup``
    untimed rounds. Each handler sample is paired with the mean of its two neighbouring
    baseline samples."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        all_jobs = jobs(Path(tmp), built)
        baseline_job = all_jobs.pop("baseline")
        names = list(all_jobs)
        rng = random.Random(seed)
        samples: dict[str, list[dict[str, float]]] = defaultdict(list)
        ratios: dict[str, dict[str, list[float]]] = {name: {m: [] for m in METRICS} for name in names}
        for round_no in range(warmup + runs):
            timed = round_no >= warmup
            order = names[:]
            rng.shuffle(order)
            before = run_child(baseline_job)[0]
            if timed:
                samples["baseline"].append(before)
            for name in order:
                figures = run_child(all_jobs[name])[0]
                after = run_child(baseline_job)[0]
                if timed:
                    samples[name].append(figures)
                    samples["baseline"].append(after)
                    for metric in METRICS:
                        ratios[name][metric].append(figures[metric] / ((before[metric] + after[metric]) / 2))
                before = after

    def median(name: str, metric: str) -> float:
        return statistics.median(s[metric] for s in samples[name])

    functions: dict[str, dict[str, Any]] = {}
    for name in names:
        row: dict[str, Any] = {
            "median_ms": round(median(name, "wall"), 1),
            "min_ms": round(min(s["wall"] for s in samples[name]), 1),
            "cpu_median_ms": round(median(name, "cpu"), 1),
        }
        for metric in METRICS:
            low, high = _quartiles(ratios[name][metric])
            row[f"ratio_{metric}"] = round(statistics.median(ratios[name][metric]), 3)
            row[f"ratio_{metric}_quartiles"] = [round(low, 3), round(high, 3)]
            row[f"ratio_{metric}_range"] = [round(min(ratios[name][metric]), 3), round(max(ratios[name][metric]), 3)]
        functions[name] = row
    return {
        "runs": runs,
        "warmup_rounds": warmup,
        "method": "paired: each handler process between two baseline processes; median of the ratios",
        "baseline_ms": round(median("baseline", "wall"), 1),
        "baseline_cpu_ms": round(median("baseline", "cpu"), 1),
        "baseline_samples": len(samples["baseline"]),
        "functions": functions,
        "samples_ms": {
            name: [[round(s["cpu"], 1), round(s["wall"], 1)] for s in rows] for name, rows in samples.items()
        },
        "paired_ratios_cpu": {name: [round(r, 3) for r in ratios[name]["cpu"]] for name in names},
    }


# -- instruction counts (valgrind) --


def _instructions(job: Job, out_file: Path) -> int:
    """Instructions one process executes (callgrind's total), start-up included."""
    code = CHILD.format(path=job.path, body=job.body)
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", sys.executable, *PYTHON_FLAGS, "-c", code],
        # A fixed hash seed: the same count at every run (a random one moves it by a few 0.1 %).
        env={**job.env, "PYTHONHASHSEED": "0"},
        capture_output=True,
        check=True,
        cwd="/",
        timeout=1800,
    )
    text = out_file.read_text(encoding="utf-8", errors="replace")
    out_file.unlink()
    found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    assert found, "no instruction count in callgrind's output"
    return int(found.group(1))


def measure_instructions(
    built: Path | None = None,
    only: Collection[str] | None = None,
    references: bool = True,
    workers: int | None = None,
    first_request: bool = False,
) -> dict[str, Any]:
    """Millions of instructions of each job's body: its process minus the interpreter's start-up
    (the baseline's process with an empty body; a function's start-up differs from it by under
    0.01 %: its ``sys.path`` and environment). Deterministic, so one process each, ``workers`` at
    a time (default: one per CPU). ``only`` keeps these functions; ``references=False`` leaves out
    the reference rows (the test that asserts the goal)."""
    if not shutil.which("valgrind"):
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        all_jobs = {
            name: job
            for name, job in jobs(Path(tmp), built, first_request).items()
            if name == "baseline"
            or (name.startswith(REFERENCE_PREFIX) and references)
            or (not name.startswith(REFERENCE_PREFIX) and (only is None or name in only))
        }
        base = all_jobs["baseline"]
        tasks = [*all_jobs.items(), ("start-up", Job("pass", base.env, base.path))]

        def count(task: tuple[str, Job]) -> int:
            name, job = task
            return _instructions(job, Path(tmp) / (name.replace(" ", "-").replace(":", "") + ".out"))

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            counts = dict(zip([name for name, _ in tasks], pool.map(count, tasks), strict=True))
    start_up = counts.pop("start-up")
    net = {name: (total - start_up) / 1e6 for name, total in counts.items()}
    baseline = net.pop("baseline")
    return {
        "method": "callgrind instruction counts, interpreter start-up subtracted",
        "start_up_minstr": round(start_up / 1e6, 1),
        "baseline_minstr": round(baseline, 1),
        "functions": {name: {"minstr": round(m, 1), "ratio": round(m / baseline, 3)} for name, m in net.items()},
    }


# -- where the time goes --


def _importtime_rows(stderr: str) -> list[tuple[float, float, str]]:
    """(self ms, cumulative ms, module) of each import in ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            own, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
            if own.isdigit() and cumulative.isdigit():
                rows.append((int(own) / 1000, int(cumulative) / 1000, name))
    return rows


def import_profile(logical: str, top: int = 15) -> tuple[list[tuple[float, str]], list[tuple[float, int, str]]]:
    """The slowest imports (cumulative ms) of one handler, from ``python -X importtime``, and the
    self time of the modules it imports and the baseline does not, by package
    (``exam_results``, ``aws_lambda_powertools`` and ``pydantic`` by subpackage)."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        all_jobs = jobs(Path(tmp))
        _ms, base_err = run_child(all_jobs["baseline"], ["-X", "importtime"])
        _ms, stderr = run_child(all_jobs[logical], ["-X", "importtime"])
    rows = _importtime_rows(stderr)
    slowest = sorted(((cumulative, name) for _own, cumulative, name in rows), reverse=True)[:top]
    baseline = {name for _o, _c, name in _importtime_rows(base_err)}
    groups: dict[str, list[float]] = defaultdict(list)
    for own, _cumulative, name in rows:
        if name not in baseline:
            parts = name.split(".")
            depth = 2 if parts[0] in {"exam_results", "aws_lambda_powertools", "pydantic", "boto3"} else 1
            groups[".".join(parts[:depth])].append(own)
    extra = sorted(((sum(t), len(t), group) for group, t in groups.items()), reverse=True)[:top]
    return slowest, extra


# -- command line --


def _print_timed(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    print(
        f"python {sys.version.split()[0]}, {args.runs} rounds (+{args.warmup} untimed), each handler process "
        "between two baseline processes; median of the paired ratios [quartiles]"
    )
    print(f"{'':34} {'CPU ms':>8} {'wall ms':>8}   {'× CPU':>20}   {'× wall':>20}")
    print(f"{'baseline: import boto3 + one client':34} {results['baseline_cpu_ms']:8.1f} {results['baseline_ms']:8.1f}")
    failed = []
    for logical, row in results["functions"].items():
        ratio = row[f"ratio_{args.metric}"]
        mark = "ok" if ratio <= args.goal else f"OVER {args.goal}x"
        cells = [
            f"{row[f'ratio_{m}']:5.2f} [{row[f'ratio_{m}_quartiles'][0]:4.2f}–{row[f'ratio_{m}_quartiles'][1]:4.2f}]"
            for m in METRICS
        ]
        times = f"{row['cpu_median_ms']:8.1f} {row['median_ms']:8.1f}"
        reference = logical.startswith(REFERENCE_PREFIX)
        print(f"{logical:34} {times}   {cells[0]:>20}   {cells[1]:>20}  {'' if reference else mark}")
        row["ratio"] = ratio
        if ratio > args.goal and not reference:
            failed.append(logical)
    return failed


def _print_instructions(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    print(f"python {sys.version.split()[0]}, instructions executed (callgrind), start-up subtracted")
    print(f"{'baseline: import boto3 + one client':34} {results['baseline_minstr']:9.1f} M")
    failed = []
    for logical, row in results["functions"].items():
        mark = "ok" if row["ratio"] <= args.goal else f"OVER {args.goal}x"
        reference = logical.startswith(REFERENCE_PREFIX)
        print(f"{logical:34} {row['minstr']:9.1f} M  {row['ratio']:5.2f}x  {'' if reference else mark}")
        if row["ratio"] > args.goal and not reference:
            failed.append(logical)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--goal", type=float, default=1.25)
    parser.add_argument("--metric", choices=METRICS, default="cpu", help="the timed ratio the goal is checked on")
    parser.add_argument("--seed", type=int, default=0, help="seed of the order of the functions in each round")
    parser.add_argument("--instructions", action="store_true", help="count instructions (valgrind) instead of timing")
    parser.add_argument(
        "--first-request", action="store_true", help="with --instructions: add every route's imports and a client"
    )
    parser.add_argument("--built", type=Path, metavar="DIR", help="measure a `sam build` output directory")
    parser.add_argument("--importtime", metavar="FUNCTION", help="show the slowest imports of one function")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a handler misses the goal")
    args = parser.parse_args(argv)
    if args.built is not None:
        args.built = args.built.resolve()  # the processes run in /
    if args.importtime:
        slowest, extra = import_profile(args.importtime)
        print("slowest imports (cumulative; -X importtime inflates them):")
        for ms, name in slowest:
            print(f"{ms:8.1f} ms  {name}")
        print("\nbeyond the baseline's imports (self time by package, number of modules):")
        for ms, count, group in extra:
            print(f"{ms:8.1f} ms  {count:4d}  {group}")
        return 0
    if args.instructions:
        results = measure_instructions(args.built, first_request=args.first_request)
        failed = _print_instructions(results, args)
    else:
        results = measure(args.runs, warmup=args.warmup, seed=args.seed, built=args.built)
        failed = _print_timed(results, args)
    results.update({"goal": args.goal, "metric": "instructions" if args.instructions else args.metric})
    results["built"] = str(args.built) if args.built else None
    results["over_goal"] = failed
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
