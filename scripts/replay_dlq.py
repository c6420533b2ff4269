#!/usr/bin/env python3
"""Move the messages of the notification DLQ back to the notification queue (operators).

Messages land in the DLQ after ``maxReceiveCount`` failed receives (SES refusing sends for a
while, a paused account, ...). Once the cause is fixed, replay them: the sender skips every
candidate already emailed (the ``NOTIFIED`` marker), so a replay never emails anyone twice.

    make replay-dlq                                   # stack from STACK_NAME (default exam-results)
    python scripts/replay_dlq.py --stack-name exam-results --region eu-west-2
    python scripts/replay_dlq.py --dlq-url URL --queue-url URL [--max 1000] [--dry-run]

Queue URLs come from the CloudFormation stack's outputs (``NotifyDeadLetterQueueUrl``,
``NotifyQueueUrl``) unless given. Each message is deleted from the DLQ only after the queue
accepted its copy, so an interrupted replay loses nothing (at worst a message is in both, and
the sender's markers make that harmless).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

import boto3

DLQ_OUTPUT = "NotifyDeadLetterQueueUrl"
QUEUE_OUTPUT = "NotifyQueueUrl"


@dataclass
class ReplayReport:
    moved: int = 0
    failed: int = 0
    receive_calls: int = 0


def queue_urls_from_stack(cloudformation: Any, stack_name: str) -> tuple[str, str]:
    """(DLQ URL, queue URL) from the stack's outputs."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [k for k in (DLQ_OUTPUT, QUEUE_OUTPUT) if k not in outputs]
    if missing:
        raise SystemExit(f"stack {stack_name} has no output {', '.join(missing)}")
    return outputs[DLQ_OUTPUT], outputs[QUEUE_OUTPUT]


def replay(
    sqs: Any,
    dlq_url: str,
    queue_url: str,
    limit: int | None = None,
    dry_run: bool = False,
    empty_polls: int = 2,
) -> ReplayReport:
    """Move up to ``limit`` messages from ``dlq_url`` to ``queue_url`` (bodies unchanged)."""
    report = ReplayReport()
    empty = 0
    while limit is None or report.moved + report.failed < limit:
        want = 10 if limit is None else max(1, min(10, limit - report.moved - report.failed))
        report.receive_calls += 1
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=want,
            VisibilityTimeout=120,
            WaitTimeSeconds=1 if empty else 0,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            empty += 1
            if empty >= empty_polls:
                break
            continue
        empty = 0
        if dry_run:
            for m in messages:
                print(m["MessageId"], m["Body"][:200])
            report.moved += len(messages)
            # Leave them in the DLQ: visible again at once.
            sqs.change_message_visibility_batch(
                QueueUrl=dlq_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for n, m in enumerate(messages)
                ],
            )
            break
        entries = [{"Id": str(n), "MessageBody": m["Body"]} for n, m in enumerate(messages)]
        for m, e in zip(messages, entries, strict=True):
            if m.get("MessageAttributes"):
                e["MessageAttributes"] = m["MessageAttributes"]
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        report.failed += len(messages) - len(ok)
        done = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages) if str(n) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        report.moved += len(done)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", help="CloudFormation stack whose outputs name the queues")
    parser.add_argument("--region", default=None)
    parser.add_argument("--dlq-url")
    parser.add_argument("--queue-url")
    parser.add_argument("--max", type=int, default=None, help="move at most this many messages")
    parser.add_argument("--dry-run", action="store_true", help="show up to 10 messages, move nothing")
    args = parser.parse_args(argv)

    session = boto3.Session(region_name=args.region) if args.region else boto3.Session()
    dlq_url, queue_url = args.dlq_url, args.queue_url
    if not (dlq_url and queue_url):
        if not args.stack_name:
            parser.error("give --stack-name, or both --dlq-url and --queue-url")
        from_stack = queue_urls_from_stack(session.client("cloudformation"), args.stack_name)
        dlq_url = dlq_url or from_stack[0]
        queue_url = queue_url or from_stack[1]
    report = replay(session.client("sqs"), dlq_url, queue_url, limit=args.max, dry_run=args.dry_run)
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} {report.moved} message(s) from {dlq_url} to {queue_url}; {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
