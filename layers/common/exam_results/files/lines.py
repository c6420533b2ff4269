"""Bytes → text lines: the S3 object's body decoded and split, streaming."""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from itertools import chain

from .report import FileRejected

__all__ = ["MAX_LINE_CHARS", "iter_text_lines"]

MAX_LINE_CHARS = 1_000_000
"""A physical line longer than this rejects the file (it is not a CSV of entries or results)."""


def _lines_in(data: bytes) -> int:
    """Line ends (LF, CRLF or a lone CR) in ``data``."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def iter_text_lines(byte_chunks: Iterable[bytes]) -> Iterator[str]:
    """Decode UTF-8 chunks into lines, streaming (only one chunk and its lines held at a time).

    A BOM at the start is dropped; a multibyte character may be split across chunks. Lines end
    at LF, CRLF or a lone CR and keep their line end (as a file opened with ``newline=""``
    would, which is what ``csv.reader`` wants), so a quoted value spanning lines survives and
    each yielded item is one physical line.

    Raises ``FileRejected`` (field None) when the bytes are not UTF-8 (naming the line), when
    the text holds a NUL character (a binary file) or when a line exceeds ``MAX_LINE_CHARS``;
    as with a generator, it is raised when iteration reaches that point.
    """
    # A chunk's lines are split at once and handed out by chain: csv.reader pulls them in C.
    return chain.from_iterable(_line_lists(byte_chunks))


_OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Characters ``str.splitlines`` ends lines at besides LF and CR (not line ends in a CSV)."""


def _line_lists(byte_chunks: Iterable[bytes]) -> Iterator[list[str]]:
    """``iter_text_lines``, one list of lines per chunk."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""  # the start of a line whose end has not been seen yet; never holds "\n"
    done = 0  # lines yielded so far
    final = False
    chunks = iter(byte_chunks)
    while not final:
        chunk = next(chunks, None)
        if chunk is None:
            final = True
            chunk = b""
        elif not chunk:
            continue
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            before = bytes(exc.object[: exc.start])
            line = done + _lines_in(before) + 1
            if pending.endswith("\r") and not before.startswith(b"\n"):
                line += 1  # the CR ending pending is a line end of its own
            raise FileRejected(
                f"The file is not UTF-8 text: line {line} holds bytes that are not valid UTF-8. "
                "Save the file as CSV UTF-8 and upload it again.",
                line=line,
            ) from None
        if "\x00" in text:
            line = done + _lines_in((pending + text[: text.index("\x00")]).encode()) + 1
            raise FileRejected(
                f"The file is not a CSV text file: line {line} holds a NUL character.",
                line=line,
            )
        if text:
            buf = pending + text if pending else text
            if not any(other in buf for other in _OTHER_LINE_BREAKS):
                # splitlines ends lines exactly at LF, CRLF and lone CR here. The last piece is
                # pending unless it ends with LF: no line end yet, or a CR whose LF may follow.
                out = buf.splitlines(keepends=True)
                pending = "" if out[-1][-1] == "\n" else out.pop()
            else:
                out = []
                parts = buf.split("\n")
                pending = parts.pop()
                for part in parts:
                    cr = part.find("\r")
                    if cr < 0 or cr == len(part) - 1:
                        out.append(part + "\n")
                    else:  # lone CRs end lines too
                        segments = part.split("\r")
                        last = segments.pop()
                        out.extend(segment + "\r" for segment in segments[:-1])
                        if last:
                            out.append(segments[-1] + "\r")
                            out.append(last + "\n")
                        else:
                            out.append(segments[-1] + "\r\n")
                # Lone CRs inside the pending text end lines too (a CR-only file must not pile up).
                cr = pending.rfind("\r", 0, len(pending) - 1)
                if cr >= 0:
                    out.extend(segment + "\r" for segment in pending[: cr + 1].split("\r")[:-1])
                    pending = pending[cr + 1 :]
            if out:
                done += len(out)
                yield out
            if len(pending) > MAX_LINE_CHARS:
                raise FileRejected(
                    f"Line {done + 1} is longer than {MAX_LINE_CHARS} characters: "
                    "the file does not look like a CSV file of entries or results.",
                    line=done + 1,
                )
    if pending:
        yield [pending]
