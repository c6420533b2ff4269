"""The operator's DLQ replay (scripts/replay_dlq.py, `make replay-dlq`)."""

from __future__ import annotations

import json
from typing import Any

from devtools.harness.stack import Stack
from scripts import replay_dlq
from tests.helpers.notify import queue_depth


def _fill_dlq(stack: Stack, count: int) -> list[str]:
    sqs = stack.client("sqs")
    bodies = [json.dumps({"session_id": "S", "id_numbers": [f"ID{n:04d}"]}) for n in range(count)]
    for body in bodies:
        sqs.send_message(QueueUrl=stack.physical("NotifyDeadLetterQueue"), MessageBody=body)
    return bodies


def _drain(stack: Stack, logical: str) -> list[str]:
    sqs = stack.client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=stack.physical(logical), MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [m["Body"] for m in got]


def test_replay_moves_every_message_back_unchanged(stack: Stack) -> None:
    bodies = _fill_dlq(stack, 23)
    report = replay_dlq.replay(
        stack.client("sqs"), stack.physical("NotifyDeadLetterQueue"), stack.physical("NotifyQueue"), empty_polls=1
    )
    assert (report.moved, report.failed) == (23, 0)
    assert queue_depth(stack, "NotifyDeadLetterQueue") == 0
    assert sorted(_drain(stack, "NotifyQueue")) == sorted(bodies)


def test_replay_limit_and_dry_run(stack: Stack, capsys: Any) -> None:
    _fill_dlq(stack, 15)
    sqs = stack.client("sqs")
    dlq, queue = stack.physical("NotifyDeadLetterQueue"), stack.physical("NotifyQueue")
    dry = replay_dlq.replay(sqs, dlq, queue, dry_run=True, empty_polls=1)
    assert dry.moved == 10 and queue_depth(stack, "NotifyQueue") == 0
    assert queue_depth(stack, "NotifyDeadLetterQueue") == 15
    capsys.readouterr()
    assert replay_dlq.replay(sqs, dlq, queue, limit=12, empty_polls=1).moved == 12
    assert queue_depth(stack, "NotifyDeadLetterQueue") == 3 and queue_depth(stack, "NotifyQueue") == 12


def test_queue_urls_come_from_the_stack_outputs(stack: Stack, capsys: Any) -> None:
    cfn = stack.client("cloudformation")
    outputs = {
        "NotifyQueueUrl": stack.physical("NotifyQueue"),
        "NotifyDeadLetterQueueUrl": stack.physical("NotifyDeadLetterQueue"),
    }
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    cfn.create_stack(StackName="exam-results-test", TemplateBody=json.dumps(template))
    assert replay_dlq.queue_urls_from_stack(cfn, "exam-results-test") == (
        outputs["NotifyDeadLetterQueueUrl"],
        outputs["NotifyQueueUrl"],
    )
    _fill_dlq(stack, 4)
    assert replay_dlq.main(["--stack-name", "exam-results-test", "--region", stack.region]) == 0
    assert "moved 4 message(s)" in capsys.readouterr().out
    assert queue_depth(stack, "NotifyQueue") == 4
