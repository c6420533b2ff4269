"""A results file end to end: the whole import of ``PublishResultsFunction`` on moto.

The stack is built from template.yaml (``devtools.harness``), the sessions and one entry per
row are seeded, the file is put into the uploads bucket and its real S3 event delivered to the
function's handler: validation (both passes over the S3 object), the entry look-ups, the staged
writes (``BatchWriteItem``, in parallel), the publishing write, the report and the marker.

The emulator (moto's server, as ``make run`` uses it) runs in a process of its own, so that
this process holds only what the function holds on Lambda: its code, the SDK and the HTTP
round trips. Measured for each size:

* **AWS calls by operation**, counted by a botocore hook on every client the function makes
  (the layer's cached client and the write pool's threads');
* **CPU time** of this process (all threads): the function's code and the SDK's, none of the
  emulator's;
* **peak memory** (``tracemalloc``, a second run of the same size): the peak of this process
  while the import runs, less what was allocated before it started. Flat: the same at every size.

    python -m benchmarks.bench_import [--sizes 10000,100000] [--no-memory] [--no-write]

Prints the figures and writes them to docs/performance.md ("Exam board files: the whole
import") and test-artifacts/bench-import.json. docs/capacity.md models a million rows on AWS
from these counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common")]
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ExamResults")

from benchmarks.bench_uploads import SESSIONS, lines, machine, write_section  # noqa: E402

SECTION = "## Exam board files: the whole import"


class Calls:
    """AWS calls by ``service:Operation`` of every client made from boto3's default session
    after it is created (the layer's, the pool threads'); retries of the SDK not counted."""

    def __init__(self, session: Any) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        session._session.get_component("event_emitter").register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.counts[f"{model.service_model.service_name}:{model.name}"] += 1


def _entries(n: int) -> Iterator[dict[str, Any]]:
    from exam_results.models import Entry
    from exam_results.repositories.uploads import UploadsRepository

    by_code = {code: s.session_id for code, s in SESSIONS.items()}
    for line in lines(n):
        fields = line.split(",", 2)
        if fields[0] == "session_id":
            continue
        yield UploadsRepository.entry_item(
            Entry(
                id_number=fields[1],
                session_id=by_code[fields[1][:3]],
                secret_hash="0" * 64,
                candidate_number="0001",
                candidate_name="Bench Candidate",
                date_of_birth=date(2005, 1, 2),
                centre_number="GB123",
                centre_name="Oxford Language Centre",
            )
        )


# The emulator's process: moto's server with the harness's patches, on a free port of 127.0.0.1;
# it prints the port and serves until its standard input closes.
EMULATOR = """
import sys
from devtools.harness import moto_patches
from devtools.local.hostguard import GuardedEmulator
moto_patches.serialise_requests()
emulator = GuardedEmulator("127.0.0.1")
emulator.start()
print(emulator.port, flush=True)
sys.stdin.read()
"""


@contextmanager
def emulator() -> Iterator[str]:
    """A fresh emulator in a process of its own; yields its endpoint."""
    process = subprocess.Popen(
        [sys.executable, "-c", EMULATOR],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its request log
        text=True,
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def run(n: int, *, trace: bool) -> dict[str, Any]:
    """One import of an ``n``-row results file (three sessions) on a fresh stack."""
    import boto3

    from devtools.harness.events import s3_object_created
    from devtools.harness.stack import REGION, Stack
    from devtools.local.server import use_emulator

    with emulator() as endpoint:
        from exam_results.repositories.aws import reset_clients
        from exam_results.wiring import deps

        use_emulator(endpoint, REGION)
        reset_clients()
        boto3.setup_default_session(region_name=REGION)
        stack = Stack(
            parameters={"WebBaseUrl": "https://results.example.com"}, session=boto3.DEFAULT_SESSION
        ).provision()
        stack._apply_env(stack.function("PublishResultsFunction"))
        d = deps()
        seeding = time.perf_counter()
        d.exams.write_items([d.exams.session_item(s) for s in SESSIONS.values()])
        d.exams.write_items(_entries(n), parallel=True)
        seeding = time.perf_counter() - seeding
        bucket, key = stack.physical("UploadsBucket"), "results/bench.csv"
        data = "".join(lines(n)).encode()
        put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        event = s3_object_created(
            bucket=bucket, key=key, size=len(data), etag=put["ETag"], region=REGION, version_id=put.get("VersionId")
        )
        del data
        reset_clients()  # the function's first client is made during the invocation, as in a cold container
        calls = Calls(boto3.DEFAULT_SESSION)
        if trace:
            tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0] if trace else 0
        wall, cpu = time.perf_counter(), time.process_time()
        answer = stack.invoke("PublishResultsFunction", event)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        current, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
        if trace:
            tracemalloc.stop()
        assert answer == {"processed": [{"key": key, "status": "accepted", "stored": n}]}, answer
        return {
            "rows": n,
            "calls": dict(sorted(calls.counts.items())),
            "cpu_s": cpu,
            "wall_s": wall,
            "seeding_s": seeding,
            "peak_bytes": peak - before,
            "retained_bytes": current - before,
            "traced": trace,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000", help="rows of the files imported")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument(
        "--single-from",
        type=int,
        default=50_000,
        help="files of this many rows or more are imported once, under tracemalloc (their CPU includes its cost)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()

    runs: list[dict[str, Any]] = []
    for n in (int(x) for x in args.sizes.split(",")):
        if n >= args.single_from and not args.no_memory:
            runs.append(run(n, trace=True))
            runs[-1]["single"] = True
            _print(runs[-1])
            continue
        timed = run(n, trace=False)
        if not args.no_memory:
            traced = run(n, trace=True)
            timed.update({k: traced[k] for k in ("peak_bytes", "retained_bytes")})
            timed["traced"] = True
        runs.append(timed)
        _print(timed)
    out = ROOT / "test-artifacts" / "bench-import.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), "runs": runs}, indent=2) + "\n")
    if not args.no_write:
        write_section(section(runs), title=SECTION)
        print("written to docs/performance.md")
    return 0


def _print(timed: dict[str, Any]) -> None:
    n = timed["rows"]
    print(
        f"{n:>9,} rows: {sum(timed['calls'].values()):,} calls {timed['calls']}\n"
        f"           CPU {timed['cpu_s']:.1f} s, wall {timed['wall_s']:.1f} s"
        + (f", peak {timed['peak_bytes'] / 2**20:.1f} MiB" if timed["traced"] else ""),
        flush=True,
    )


def section(runs: list[dict[str, Any]]) -> str:
    from exam_results.repositories.dynamo import POOL_THREADS

    runs = sorted(runs, key=lambda r: r["rows"])
    ops = sorted({op for r in runs for op in r["calls"]})
    header = "| | " + " | ".join(f"{r['rows']:,} rows" for r in runs) + " |"
    rule = "|---|" + "---:|" * len(runs)
    rows = [f"| `{op}` | " + " | ".join(f"{r['calls'].get(op, 0):,}" for r in runs) + " |" for op in ops]
    rows.append("| **AWS calls** | " + " | ".join(f"**{sum(r['calls'].values()):,}**" for r in runs) + " |")
    rows.append(
        "| **CPU of the function** (code + SDK, all threads) | "
        + " | ".join(
            f"**{r['cpu_s']:.1f} s** ({r['cpu_s'] / r['rows'] * 1e6:.0f} µs a row)"
            + (" (under tracemalloc)" if r.get("single") else "")
            for r in runs
        )
        + " |"
    )
    walls = " | ".join(f"{r['wall_s']:.0f} s" for r in runs)
    rows.append(f"| wall time (the emulator answers one call at a time) | {walls} |")
    if all(r["traced"] for r in runs):
        rows.append(
            "| **peak memory of the import** (tracemalloc) | "
            + " | ".join(f"**{r['peak_bytes'] / 2**20:.1f} MiB**" for r in runs)
            + " |"
        )
        rows.append(
            "| still held after it (clients, caches) | "
            + " | ".join(f"{r['retained_bytes'] / 2**20:.1f} MiB" for r in runs)
            + " |"
        )
    table = "\n".join([header, rule, *rows])
    return f"""{SECTION}

`make benchmark-import` (`python -m benchmarks.bench_import`), {time.strftime("%Y-%m-%d")}, on {machine()}.
The stack is built from template.yaml on moto, the file's sessions (three) and one entry per
row seeded, the file put into the uploads bucket and its S3 event delivered to the real
`PublishResultsFunction` handler: validation (entries looked up 100 a `BatchGetItem`, {POOL_THREADS} in flight), the
staged writes (25 a `BatchWriteItem`, {POOL_THREADS} in flight), the publishing write, the report and the
processed marker. The emulator (moto's server) runs in a process of its own, so this process
holds and spends only what the function does, HTTP round trips included. Calls are counted on
every client the function makes; CPU is this process's (all threads); memory is a second run
under `tracemalloc`: its peak while the import runs, less what was allocated before.

{table}

Calls are exactly ⌈N/25⌉ writes + ⌈N/100⌉ + 2 look-ups + 9 per file; docs/capacity.md ("A
million-row results file") scales them and the function's CPU to AWS. CPU per row: take it from
a run without tracemalloc (tracemalloc slows allocation-heavy code several times).
Memory is the function's alone (the emulator's table lives in the other process): the
validation streams the object, the look-ups go 100 IDs at a time and the write pool holds at
most {2 * POOL_THREADS} batches of 25 items, so the peak does not grow with the file.
"""


if __name__ == "__main__":
    sys.exit(main())
