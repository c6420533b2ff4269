"""The local stack runs invocations as Lambda does: concurrently, each function in its own pool
of containers (worker processes with that function's environment), so races show locally."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from devtools.local.localproc import LocalProcess

HANDLER = """
import json
import os
import time

STARTED = time.time()  # once per container: its cold start


def handler(event, context):
    start = time.time()
    time.sleep(float(os.environ["SLEEP"]))
    call = {
        "fn": os.environ["FN"],
        "only_slow": os.environ.get("ONLY_SLOW"),
        "function_name": context.function_name,
        "pid": os.getpid(),
        "container_started": STARTED,
        "start": start,
        "end": time.time(),
    }
    with open(os.environ["OUT"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(call) + "\\n")
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(call)}
"""

# For the in-process harness: the event carries a barrier that both functions' handlers wait at.
BARRIER_HANDLER = """
import os


def handler(event, context):
    before = (os.environ.get("FN"), os.environ.get("ONLY_SLOW"), os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    event["barrier"].wait(10)
    after = (os.environ.get("FN"), os.environ.get("ONLY_SLOW"), os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    return {"before": before, "after": after}
"""

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  SenderEmail: {{Type: String, Default: sender@example.com}}
  WebBaseUrl: {{Type: String, Default: https://x.test}}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    Environment:
      Variables:
        OUT: {out}
        SLEEP: "0.5"
Resources:
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Environment: {{Variables: {{FN: slow, ONLY_SLOW: "yes"}}}}
      Events:
        Post: {{Type: Api, Properties: {{Path: /slow, Method: post}}}}
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Environment: {{Variables: {{FN: other}}}}
      Events:
        Post: {{Type: Api, Properties: {{Path: /other, Method: post}}}}
  Jobs:
    Type: AWS::SQS::Queue
    Properties: {{VisibilityTimeout: 30}}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code}
      Handler: app.handler
      Environment: {{Variables: {{FN: worker}}}}
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 1
            ScalingConfig: {{MaximumConcurrency: 2}}
"""

POOL = 3


def _template(directory: Path, handler: str = HANDLER) -> tuple[Path, Path]:
    code = directory / "fn"
    code.mkdir(parents=True)
    (code / "app.py").write_text(handler, encoding="utf-8")
    out = directory / "calls.jsonl"
    path = directory / "template.yaml"
    path.write_text(textwrap.dedent(TEMPLATE.format(out=out, code=code)), encoding="utf-8")
    return path, out


def _most_at_once(calls: list[dict[str, Any]]) -> int:
    """The largest number of handler runs overlapping in time."""
    edges = sorted([(c["start"], 1) for c in calls] + [(c["end"], -1) for c in calls])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_concurrent_requests_run_at_once_in_a_bounded_pool_per_function(tmp_path: Path) -> None:
    template, out = _template(tmp_path)
    local = LocalProcess(
        tmp_path / "local.log",
        "--template",
        str(template),
        "--no-demo",
        "--tick",
        "0",
        env={"LOCAL_POOL_SIZE": str(POOL)},
    ).start()
    try:
        n = 8
        barrier = threading.Barrier(2 * n)

        def call(path: str) -> tuple[int, Any]:
            barrier.wait()
            return local.json("POST", path, {})

        with ThreadPoolExecutor(2 * n) as pool:
            answers = list(pool.map(call, ["/api/slow"] * n + ["/api/other"] * n))
        assert [status for status, _ in answers] == [200] * (2 * n), answers
        containers = local.status()["containers"]
    finally:
        code = local.stop(signal.SIGINT)
    assert code == 0, local.output()

    calls = [json.loads(line) for line in out.read_text().splitlines()]
    slow = [c for c in calls if c["fn"] == "slow"]
    other = [c for c in calls if c["fn"] == "other"]
    assert len(slow) == len(other) == n
    # Handlers overlapped: several of one function at once, and the two functions interleaved…
    assert _most_at_once(slow) == POOL, slow
    assert _most_at_once(other) == POOL, other
    assert _most_at_once(calls) > POOL
    # …each function in its own bounded pool of warm containers, with its own environment only.
    for fn, runs in (("slow", slow), ("other", other)):
        pids = {c["pid"] for c in runs}
        assert len(pids) == POOL, runs
        assert len({c["container_started"] for c in runs}) == POOL  # imported once per container
        assert {c["only_slow"] for c in runs} == ({"yes"} if fn == "slow" else {None})
        assert sorted(containers[fn.title()]["pids"]) == sorted(pids)
        assert containers[fn.title()]["cold_starts"] == POOL
    assert not {c["pid"] for c in slow} & {c["pid"] for c in other}
    assert {c["function_name"] for c in slow}.isdisjoint({c["function_name"] for c in other})
    # Ctrl-C stopped every container: no orphan process is left.
    assert not [pid for pid in {c["pid"] for c in calls} if _alive(pid)]
    assert os.getpid() not in {c["pid"] for c in calls}


def test_in_process_invocations_of_two_functions_at_once_each_see_their_own_environment(tmp_path: Path) -> None:
    """The tests' harness (``Stack.invoke`` in threads, no lock) hides no race either: a
    function never runs with another's variables, even while the other runs."""
    from moto import mock_aws

    from devtools.harness.stack import Stack

    template, _ = _template(tmp_path, BARRIER_HANDLER)
    with mock_aws():
        stack = Stack(template_path=template).provision()
        barrier = threading.Barrier(4)
        functions = ["Slow", "Other", "Slow", "Other"]
        with ThreadPoolExecutor(4) as pool:
            seen = list(pool.map(lambda fn: stack.invoke(fn, {"barrier": barrier}), functions))
    own = {
        "Slow": ("slow", "yes", stack.physical("Slow")),
        "Other": ("other", None, stack.physical("Other")),
    }
    assert seen == [{"before": own[fn], "after": own[fn]} for fn in functions]
    assert "FN" not in os.environ  # outside an invocation, the process's own environment


def test_twenty_concurrent_registrations_through_make_run_give_exactly_one_account(tmp_path: Path) -> None:
    """The real stack: the registrations ran at once (the pool grew), and the conditional
    writes still let exactly one through (the emulator applies each DynamoDB request
    atomically, as DynamoDB does)."""
    local = LocalProcess(tmp_path / "local.log", "--tick", "0").start()
    try:
        pb = next(c for c in local.status()["demo"] if c["format"] == "PB")
        barrier = threading.Barrier(20)

        def register(i: int) -> tuple[int, Any]:
            barrier.wait()
            password = "Local-stack-42"
            body = {
                "id_number": pb["id_number"],
                "secret_number": pb["secret_number"],
                "email": f"racer{i}@example.com",
                "password": password,
                "confirm_password": password,
                "accept_terms": True,
            }
            return local.json("POST", "/api/registrations", body)

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(register, range(20)))
        statuses = sorted(status for status, _ in answers)
        pool_status = local.status()["containers"]["RegisterFunction"]
        winner = next(body["email"] for status, body in answers if status == 201)
        mails = [m for i in range(20) for m in local.mails_to(f"racer{i}@example.com")]
    finally:
        assert local.stop(signal.SIGINT) == 0, local.output()
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 429}, statuses
    assert pool_status["cold_starts"] == pool_status["size"] > 1  # they overlapped: the pool grew to its size
    assert [m["to"] for m in mails] == [[winner]]


def test_sqs_batches_run_at_once_up_to_the_maximum_concurrency_each_message_once(tmp_path: Path) -> None:
    import boto3

    template, out = _template(tmp_path)
    local = LocalProcess(tmp_path / "local.log", "--template", str(template), "--no-demo", "--tick", "0").start()
    try:
        status = local.status()
        (source,) = status["sqs_sources"]
        sqs = boto3.client(
            "sqs",
            endpoint_url=status["emulator"],
            region_name="eu-west-2",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        for i in range(6):
            sqs.send_message(QueueUrl=source["queue_url"], MessageBody=f"job {i}")
        deadline = time.monotonic() + 30
        calls: list[dict[str, Any]] = []
        while time.monotonic() < deadline and len(calls) < 6:
            time.sleep(0.2)
            calls = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
        time.sleep(1)  # a duplicate delivery would show by now
        calls = [json.loads(line) for line in out.read_text().splitlines()]
    finally:
        assert local.stop(signal.SIGINT) == 0, local.output()
    assert source["concurrency"] == 2
    assert len(calls) == 6 and {c["fn"] for c in calls} == {"worker"}, calls
    assert _most_at_once(calls) == 2  # two batches at once, never more


def test_in_process_invocations_flushing_metrics_at_once_never_fail() -> None:
    """Handlers in this harness's threads share Powertools' one metric set per process (one per
    container on Lambda). A flush serialising the set while another invocation clears it raised
    'Must contain at least one metric' — a 502 that Lambda never gives. The harness serialises
    metric bookkeeping (never the handlers): here a flush is held mid-serialisation while a second
    invocation flushes too, and both must succeed."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    from devtools.harness import stack as harness

    harness.serialise_metric_bookkeeping()
    metrics = Metrics(namespace="HarnessTest", service="harness")
    serialise = AmazonCloudWatchEMFProvider.serialize_metric_set
    first_inside = threading.Event()
    second_flushed = threading.Event()

    def slow_serialise(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not first_inside.is_set():
            first_inside.set()
            second_flushed.wait(1.0)  # unserialised, the second flush clears the set meanwhile
        return serialise(self, *args, **kwargs)

    def invocation(first: bool) -> None:
        if not first:
            first_inside.wait(5)
        metrics.add_metric(name="Calls", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        if not first:
            second_flushed.set()

    AmazonCloudWatchEMFProvider.serialize_metric_set = slow_serialise  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(2) as pool:
            results = [pool.submit(invocation, first) for first in (True, False)]
            for result in results:
                result.result(timeout=10)  # raises what the invocation raised
    finally:
        AmazonCloudWatchEMFProvider.serialize_metric_set = serialise  # type: ignore[method-assign]
        metrics.clear_metrics()
