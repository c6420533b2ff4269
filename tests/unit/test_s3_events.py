"""The S3 edge of the upload functions (``exam_results.s3_events``): which records reach the use case, with what."""

from __future__ import annotations

from typing import Any, cast

from exam_results.files.report import Report
from exam_results.s3_events import process_uploads
from exam_results.wiring import Deps

DEPS = cast(Deps, object())


def _record(name: str, key: str, **obj: Any) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": name,
        "s3": {"bucket": {"name": "uploads"}, "object": {"key": key, "size": 10, **obj}},
    }


def _recording_use_case(calls: list[tuple[Any, ...]]) -> Any:
    def use_case(deps: Deps, bucket: str, key: str, version_id: str | None, etag: str) -> Report | None:
        calls.append((deps, bucket, key, version_id, etag))
        return None if key.endswith("skip.csv") else Report(source_key=key, status="accepted", rows=3, stored=3)

    return use_case


def test_created_objects_reach_the_use_case_with_their_decoded_key_version_and_etag() -> None:
    calls: list[tuple[Any, ...]] = []
    event = {
        "Records": [
            _record("ObjectCreated:Put", "entries/day+1+%28late%29.csv", versionId="v1", eTag="abc"),
            _record("ObjectCreated:CompleteMultipartUpload", "entries/skip.csv"),
        ]
    }
    out = process_uploads(DEPS, event, _recording_use_case(calls))
    assert calls == [
        (DEPS, "uploads", "entries/day 1 (late).csv", "v1", "abc"),
        (DEPS, "uploads", "entries/skip.csv", None, ""),  # unversioned, no eTag: None and ""
    ]
    assert out == {
        "processed": [
            {"key": "entries/day 1 (late).csv", "status": "accepted", "stored": 3},
            {"key": "entries/skip.csv", "status": "skipped", "stored": 0},
        ]
    }


def test_other_records_and_s3s_test_event_reach_nothing() -> None:
    calls: list[tuple[Any, ...]] = []
    removed = _record("ObjectRemoved:Delete", "entries/a.csv")
    sqs = {**_record("ObjectCreated:Put", "entries/b.csv"), "eventSource": "aws:sqs"}
    assert process_uploads(DEPS, {"Records": [removed, sqs]}, _recording_use_case(calls)) == {"processed": []}
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads"}
    assert process_uploads(DEPS, test_event, _recording_use_case(calls)) == {"processed": []}
    assert calls == []
