"""The exam board's CSV files (SPEC §5), the parts every kind of file shares:

* ``lines``: bytes → text lines, streaming (``iter_text_lines``);
* ``reader``: the header checked, then the data rows (``read_rows``) and each kind's columns;
* ``fields``: the field checks the row checks of each kind share (``check_session_id``, ...);
* ``duplicates``: "no ID twice in a file" with memory that does not grow (``DuplicateIds``);
* ``report``: the report, its errors and where it goes (``Report``, ``report_key``).

The row checks of each kind live beside the package, in ``exam_results.result_rows``,
``entry_rows`` and ``release_rows``: each upload function imports (and compiles, at its cold
start) only its own. Pure code: no AWS calls; the imports feed it the S3 object's body in
chunks and do the database checks themselves. Nothing is imported here, so a module that needs
only the report does not load the CSV reader.

Pipeline::

    lines = iter_text_lines(body.iter_chunks())            # bytes → str lines, streaming
    checker = ResultsFileChecker()                         # result_rows (or entry_rows.EntriesFileChecker)
    for line, row in read_rows(lines, RESULT_COLUMNS):     # may raise FileRejected at any point
        if isinstance(row, ReportError):                   # a structural problem with that row
            errors.append(row)
            continue
        parsed, row_errors = checker.check(line, row, exam)
        ...

Errors come in three shapes:

* ``FileRejected`` (an exception): a whole-file problem — not UTF-8, not CSV, missing column(s),
  no data rows. Its ``errors`` are ready for the report. ``iter_text_lines`` and ``read_rows``
  are generators, so it can be raised mid-iteration (for example invalid UTF-8 on line 90 000):
  the file is then rejected; the caller may add the row errors it collected so far.
* ``ReportError`` yielded by ``read_rows`` instead of a row: that row's structure is wrong
  (wrong number of fields). The file will be rejected; reading goes on so that every bad row is
  reported.
* ``(field, message)`` pairs from the ``validate_*`` functions, or ``ReportError`` lists from
  the ``*FileChecker`` helpers, which add the line number.

Messages are sentences for a person and never contain a secret number.
"""
