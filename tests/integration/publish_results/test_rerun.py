"""The runbook's "re-run a file": copying the object onto itself processes it again."""

from __future__ import annotations

from scripts.ops import Names, rerun

RESULTS = "session_id,id_number,overall_score,grade,cefr_level,reading,use_of_english,writing,listening,speaking\n"


def test_rerun_processes_the_same_file_again_as_a_new_version(stack, board):
    key = "results/rerun day.csv"
    _answer, event = board.results(key, RESULTS + "NOPE-2026-01-01-PB,ABC123456,180,C,C1,180,180,180,180,180\n")
    assert board.report(key)["status"] == "rejected"  # unknown session
    assert board.report_versions(key) == 1
    # The same event again changes nothing...
    stack.invoke("PublishResultsFunction", event)
    assert board.report_versions(key) == 1

    # ...but the operator's re-run makes a new version, whose event is processed again.
    names = Names(data_table=stack.physical("DataTable"), auth_table=stack.physical("AuthTable"), bucket=board.bucket)
    assert "copied onto itself" in rerun(names, key)
    s3 = stack.client("s3")
    head = s3.head_object(Bucket=board.bucket, Key=key)
    assert head["VersionId"] != event["Records"][0]["s3"]["object"]["versionId"]
    stack.invoke("PublishResultsFunction", board.event(key))
    assert board.report_versions(key) == 2
    assert board.report(key)["status"] == "rejected"
