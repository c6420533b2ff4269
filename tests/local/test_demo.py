"""The demo data of `make run`: valid files in the exam board's formats (SPEC §5)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from devtools.local import demo_candidates, demo_files


def test_demo_files_follow_the_exam_board_formats() -> None:
    now = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
    candidates = demo_candidates(now)
    entries_csv, results_csv = demo_files(candidates)
    entries = list(csv.DictReader(io.StringIO(entries_csv.decode())))
    results = list(csv.DictReader(io.StringIO(results_csv.decode())))

    assert [(e["format"], e["exam"]) for e in entries] == [("PB", "C1A"), ("CB", "B2F")]
    for e in entries:
        assert e["session_id"] == f"{e['exam']}-{e['exam_date']}-{e['format']}"
        assert 6 <= len(e["id_number"]) <= 12 and e["id_number"].isalnum()
        assert len(e["secret_number"]) == 8 and e["secret_number"].isdigit()
    pb, cb = entries
    assert datetime.fromisoformat(pb["results_available_by"]) == now + timedelta(minutes=1)
    assert cb["results_available_by"] == ""  # the default result window: pending

    (result,) = results
    assert result["session_id"] == pb["session_id"] and result["id_number"] == pb["id_number"]
    skills = [int(result[s]) for s in ("reading", "use_of_english", "writing", "listening", "speaking")]
    assert all(80 <= s <= 210 for s in skills)
    assert int(result["overall_score"]) == int(sum(skills) / len(skills) + 0.5)
    assert (result["grade"], result["cefr_level"]) == ("B", "C1")  # C1A band 193–199
