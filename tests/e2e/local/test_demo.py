"""The demo data of `make run`: valid files in the exam board's formats (SPEC §5)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from devtools.local.server import demo_candidates, demo_files, demo_release_file


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
    assert cb["results_available_by"] == ""  # the default result window: 11 days from now

    # Faster results: the CB session is brought forward to a minute after start by a releases/ file.
    (release,) = list(csv.DictReader(io.StringIO(demo_release_file(candidates).decode())))
    assert release == {"session_id": cb["session_id"], "release_at": (now + timedelta(minutes=1)).isoformat()}

    assert [r["session_id"] for r in results] == [pb["session_id"], cb["session_id"]]
    for result, entry, top, band in zip(results, entries, (210, 190), (("B", "C1"), ("B", "B2")), strict=True):
        assert result["id_number"] == entry["id_number"]
        skills = [int(result[s]) for s in ("reading", "use_of_english", "writing", "listening", "speaking")]
        assert all(80 <= s <= top for s in skills)
        assert int(result["overall_score"]) == int(sum(skills) / len(skills) + 0.5)
        assert (result["grade"], result["cefr_level"]) == band  # C1A 193–199, B2F 173–179
