"""Operator commands for results day (see docs/runbook.md).

    python -m scripts.ops candidate ABC123456 --stack exam-results-prod
    python -m scripts.ops rerun results/day1.csv --stack exam-results-prod
    python -m scripts.ops bring-forward C1A-2026-06-20-PB [--at 2026-07-10T09:00:00+01:00] --stack ...
    python -m scripts.ops upcoming [--hours 1] --stack exam-results-prod

Resource names come from the stack's outputs (or --data-table/--auth-table/--bucket).
Nothing here prints a Secret Number, a token, a password hash or a full email address.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3


@dataclass
class Names:
    data_table: str
    auth_table: str
    bucket: str


def names_from(args: argparse.Namespace) -> Names:
    outputs: dict[str, str] = {}
    if args.stack:
        stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Names(
        data_table=args.data_table or outputs.get("DataTableName", ""),
        auth_table=args.auth_table or outputs.get("AuthTableName", ""),
        bucket=args.bucket or outputs.get("UploadsBucketName", ""),
    )


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def candidate_report(names: Names, id_number: str, now: datetime | None = None) -> list[str]:
    """Answer "my result is not there": what the service knows of one ID Number, and why."""
    os.environ.setdefault("DATA_TABLE", names.data_table)
    os.environ.setdefault("AUTH_TABLE", names.auth_table)
    from exam_results.credentials import normalise_id
    from exam_results.repositories.auth import AuthRepository
    from exam_results.repositories.candidates import CandidateRepository, effective_fields, entry_files
    from exam_results.repositories.exams import ExamRepository, file_of, result_files, visible_result

    now = now or datetime.now(UTC)
    id_number = normalise_id(id_number)
    exams = ExamRepository(names.data_table)
    everything = exams.candidate_records(id_number)
    records = {r["sk"]: r for r in everything}
    lines = [f"ID Number {id_number}"]
    files = entry_files(records.get("ENTRY"))
    entry_published = CandidateRepository(names.data_table).published(files)
    entry = effective_fields(records.get("ENTRY"), entry_published)
    if entry is None:
        if files:  # versions of entries files, none published
            return [*lines, "no entry in effect: its entries file failed before publication (check reports/entries/)"]
        return [*lines, "no entry: the centre's entries file has not been loaded for this ID (check reports/entries/)"]
    versions = [r for r in everything if str(r["sk"]).startswith("RESULT#") and r["session_id"] == entry["session_id"]]
    sessions, published = exams.sessions_and_files([entry["session_id"]], result_files(versions))
    session = sessions.get(entry["session_id"])
    lines.append(f"entry: session {entry['session_id']}, centre {entry['centre_number']} {entry['centre_name']}")
    if session is None:
        lines.append("session: missing (load the entries file again)")
    else:
        lines.append(
            f"session: {session.status}, results available by {session.results_available_by.isoformat()}"
            + (f", released at {session.released_at.isoformat()}" if session.released_at else "")
        )
    result = visible_result(versions, published)
    staged = sum(1 for r in versions if r.get("version") and file_of(str(r["version"])) not in published)
    lines.append("result: " + ("present" if result else "none published (check reports/results/)"))
    if staged:
        lines.append(f"staged, not published: {staged} version(s) of results files that failed (see their reports)")
    account = records.get("ACCOUNT")
    if account is None:
        lines.append("account: not registered")
    else:
        confirmed = "confirmed" if account.get("email_confirmed_at") else "NOT confirmed (resend the confirmation)"
        lines.append(f"account: {_mask(account['email'])}, email {confirmed}")
    notified = records.get(f"NOTIFIED#{entry['session_id']}")
    lines.append("results email: " + ("sent" if notified else "not sent"))
    auth = AuthRepository(names.auth_table)
    for scope in ("LOGIN", "SECRET"):
        record = auth.get_attempts(auth.attempts_pk(scope, id_number)) or {}
        if float(record.get("locked_until", 0)) > now.timestamp():
            minutes = max(1, round((float(record["locked_until"]) - now.timestamp()) / 60))
            lines.append(f"{scope.lower()} locked for another {minutes} minutes")
    if session and session.status == "released":
        verdict = (
            "visible to the candidate" if result else "OVERDUE: no result uploaded; the centre should ask the board"
        )
    else:
        verdict = "pending: not released yet"
    lines.append(f"verdict: {verdict}")
    return lines


def rerun(names: Names, key: str) -> str:
    """Process an uploaded file again: copy the object onto itself (a new version → new event)."""
    s3 = boto3.client("s3")
    s3.copy_object(
        Bucket=names.bucket,
        Key=key,
        CopySource={"Bucket": names.bucket, "Key": key},
        MetadataDirective="REPLACE",
        Metadata={"rerun-at": str(int(time.time()))},
    )
    from exam_results.files.report import report_key

    return f"s3://{names.bucket}/{key} copied onto itself; its report will be rewritten under {report_key(key)}"


def release_file(names: Names, releases: list[tuple[str, str]], now: datetime | None = None) -> str:
    """Bring sessions forward: write the releases file the exam board would upload,
    ``releases/ops-<time>.csv`` with (session_id, release_at; blank = now). The ReleaseSessions
    function checks it like any other file; its report is ``reports/<key>.json``."""
    now = now or datetime.now(UTC)
    key = f"releases/ops-{now.strftime('%Y%m%dT%H%M%S%fZ')}.csv"
    body = "session_id,release_at\r\n" + "".join(f"{sid},{at}\r\n" for sid, at in releases)
    boto3.client("s3").put_object(Bucket=names.bucket, Key=key, Body=body.encode(), ContentType="text/csv")
    return key


def upcoming_releases(names: Names, hours: float = 1.0, now: datetime | None = None) -> list[str]:
    """Which open sessions the schedule releases within ``hours``, and why (a Query on GSI1,
    the index the schedule reads, sorted by release time)."""
    os.environ.setdefault("DATA_TABLE", names.data_table)
    from datetime import timedelta

    from exam_results.repositories.exams import ExamRepository, instant

    now = now or datetime.now(UTC)
    until = now + timedelta(hours=hours)
    sessions = ExamRepository(names.data_table).open_sessions_until(until)
    lines = [f"open sessions released by {instant(until)}: {len(sessions)}"]
    for session in sessions:
        promised = instant(session.results_available_by)
        if session.release_at is not None and session.release_at < session.results_available_by:
            why = f"brought forward by {session.release_set_by} (results available by {promised})"
        else:
            why = "end of its result window (results_available_by)"
        due = "due now" if session.release_time <= now else "due"
        lines.append(f"{instant(session.release_time)}  {session.session_id}  {due}: {why}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.ops", description=__doc__)
    parser.add_argument("--stack", help="CloudFormation stack name (resource names from its outputs)")
    parser.add_argument("--data-table")
    parser.add_argument("--auth-table")
    parser.add_argument("--bucket")
    sub = parser.add_subparsers(dest="command", required=True)
    cand = sub.add_parser("candidate", help='answer "my result is not there" for an ID Number')
    cand.add_argument("id_number")
    again = sub.add_parser("rerun", help="process an uploaded entries or results file again")
    again.add_argument("key")
    forward = sub.add_parser("bring-forward", help="release a session early: writes a releases/ file")
    forward.add_argument("session_id")
    forward.add_argument("--at", default="", help="ISO 8601 with an offset (default: now)")
    soon = sub.add_parser("upcoming", help="which sessions release in the next hours, and why")
    soon.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "layers", "common"))
    names = names_from(args)
    if args.command == "candidate":
        print("\n".join(candidate_report(names, args.id_number)))
    elif args.command == "bring-forward":
        key = release_file(names, [(args.session_id, args.at)])
        print(f"s3://{names.bucket}/{key} written; its report will be at reports/{key}.json")
    elif args.command == "upcoming":
        print("\n".join(upcoming_releases(names, args.hours)))
    else:
        print(rerun(names, args.key))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
