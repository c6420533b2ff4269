"""Repeated ID Numbers in a file: found exactly, with memory that does not grow with the file."""

from __future__ import annotations

import heapq
import os
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import islice, repeat
from operator import add, and_, eq, lshift, lt, or_, rshift
from typing import Any

from .report import FieldProblem, ReportError

__all__ = ["DuplicateIds", "duplicate_errors", "duplicate_problem"]

_ID_KEY_OFFSET: tuple[int, ...] = tuple(sum(36**k for k in range(1, n)) for n in range(13))
"""``_ID_KEY_OFFSET[n]``: the first key of the IDs of ``n`` characters (see ``DuplicateIds``)."""

_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1


def _id_key(id_number: str) -> int:
    """The key of an ID Number of 1 to 12 ASCII letters and digits (case-insensitive)."""
    return _ID_KEY_OFFSET[len(id_number)] + int(id_number, 36)


def _id_of_key(key: int) -> str:
    """The ID Number (upper case) whose key is ``key``: ``_id_key`` undone."""
    length = max(n for n in range(1, 13) if _ID_KEY_OFFSET[n] <= key)
    value = key - _ID_KEY_OFFSET[length]
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 36)
        digits.append(_DIGITS36[digit])
    return "".join(reversed(digits))


def duplicate_problem(id_number: str, first_line: int) -> FieldProblem:
    """The report's words for a repeated ID Number (one home for the message)."""
    return (
        "id_number",
        f"ID Number {id_number.upper()} appears more than once in this file (first on line {first_line}).",
    )


class DuplicateIds:
    """ "No ID twice in a file" with memory that does not grow with the file: exact (never a
    false or a missed repeat), case-insensitive.

    Record rows as they are checked (``add``: a block; ``add_one``: a row); once the file is
    read, ``repeats`` names every row whose ID came before, with the line of its first one.
    Each ID (1 to 12 ASCII letters and digits) becomes a distinct integer key (``_id_key``:
    base 36 plus an offset by length). Keys and lines are held in arrays of at most
    ``run_rows`` rows, then sorted and spilled as a run to a temporary file (12 bytes a row);
    ``repeats`` merges the runs a block at a time, so equal keys meet side by side. Memory:
    about ``run_rows`` rows whatever the file's length. Line numbers below 2**32.
    """

    RUN_ROWS = 1 << 13

    def __init__(self, run_rows: int = RUN_ROWS) -> None:
        self._run_rows = run_rows
        self._keys = array("Q")
        self._lines = array("I")
        self._runs: list[tuple[int, int]] = []  # (offset in the file, rows)
        self._file: Any = None
        self._size = 0
        self.count = 0
        """Rows recorded so far."""

    def add(self, lines: Sequence[int], id_numbers: Sequence[str], lengths: set[int] | None = None) -> None:
        """Record rows: ``id_numbers[i]`` is on ``lines[i]`` (in any order). Every ID must be
        1 to 12 ASCII letters and digits — checked by the caller (``add_one`` checks).
        ``lengths``: the set of the IDs' lengths, when the caller has it already."""
        n = len(lines)
        if n != len(id_numbers):
            raise ValueError("one line per ID Number")
        lengths = set(map(len, id_numbers)) if lengths is None else set(lengths)
        if len(lengths) == 1:  # IDs of one length (the rule): one offset for all
            self._keys.extend(map(add, map(int, id_numbers, repeat(36)), repeat(_ID_KEY_OFFSET[lengths.pop()])))
        else:
            self._keys.extend(
                map(add, map(_ID_KEY_OFFSET.__getitem__, map(len, id_numbers)), map(int, id_numbers, repeat(36)))
            )
        self._lines.extend(lines)
        self.count += n
        if len(self._keys) >= self._run_rows:
            self._spill()

    def add_one(self, line: int, id_number: str) -> None:
        """Record one row; an ID Number that is not 1 to 12 ASCII letters and digits is ignored
        (it is a bad ID, reported as such, and cannot repeat a valid one)."""
        if 0 < len(id_number) <= 12 and id_number.isascii() and id_number.isalnum():
            self._keys.append(_id_key(id_number))
            self._lines.append(line)
            self.count += 1
            if len(self._keys) >= self._run_rows:
                self._spill()

    def _sorted(self) -> tuple[array[int], array[int]]:
        """The arrays in memory sorted by key, then line; emptied."""
        keys, lines = self._keys, self._lines
        self._keys, self._lines = array("Q"), array("I")
        if all(map(lt, keys, islice(keys, 1, None))):  # IDs in increasing order (files often are)
            return keys, lines
        rows = sorted(map(or_, map(lshift, keys, repeat(_LINE_BITS)), lines))  # by key, then line
        return array("Q", map(rshift, rows, repeat(_LINE_BITS))), array("I", map(and_, rows, repeat(_LINE_MASK)))

    def _spill(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="ids-")  # noqa: SIM115  # closed by close()
        keys, lines = self._sorted()
        self._file.write(keys.tobytes() + lines.tobytes())
        self._runs.append((self._size, len(keys)))
        self._size += 12 * len(keys)

    def _read_run(self, offset: int, rows: int, block: int, with_lines: bool) -> Iterator[list[int]]:
        """A spilled run, ``block`` rows at a time: sorted lists of keys, or of
        ``key << 32 | line`` when ``with_lines``."""
        fd = self._file.fileno()
        for start in range(0, rows, block):
            n = min(block, rows - start)
            keys = array("Q", os.pread(fd, 8 * n, offset + 8 * start))
            if not with_lines:
                yield keys.tolist()
                continue
            lines = array("I", os.pread(fd, 4 * n, offset + 8 * rows + 4 * start))
            yield list(map(or_, map(lshift, keys, repeat(_LINE_BITS)), lines))

    def _sorted_blocks(self, with_lines: bool) -> Iterator[list[int]]:
        """Every row recorded, in order, in sorted lists of keys (or of ``key << 32 | line``
        when ``with_lines``); rows with the same ID are always in the same list.

        A k-way merge done a block at a time in C: each step takes, from every run and from the
        rows in memory, the rows whose key is below the smallest last key among the current
        blocks of the runs that have more to come (a later block may still hold that key), and
        sorts them (``list.sort`` merges the sorted pieces it is given)."""
        if self._keys:
            self._keys, self._lines = self._sorted()  # kept sorted: repeats() may be called again
        shift = _LINE_BITS if with_lines else 0
        if with_lines:
            rest = list(map(or_, map(lshift, self._keys, repeat(_LINE_BITS)), self._lines))
        else:
            rest = self._keys.tolist()
        if not self._runs:
            yield rest
            return
        self._file.flush()
        block = max(64, self._run_rows // len(self._runs))
        sources: list[tuple[Iterator[list[int]], list[int], list[int]]] = []  # (blocks, current, [blocks left])
        for offset, rows in self._runs:
            blocks = self._read_run(offset, rows, block, with_lines)
            sources.append((blocks, next(blocks), [-(-rows // block) - 1]))
        at = 0  # rest[at:] not taken yet
        while sources:
            pending = [source for source in sources if source[2][0]]
            bound_key = min(current[-1] >> shift for _, current, _ in pending) if pending else None
            bound = None if bound_key is None else bound_key << shift
            taken: list[int] = []
            following = []
            for blocks, current, left in sources:
                cut = len(current) if bound is None else bisect_left(current, bound)
                taken += current[:cut]
                if cut < len(current):
                    following.append((blocks, current[cut:], left))
                elif left[0]:
                    left[0] -= 1
                    following.append((blocks, next(blocks), left))
            cut = len(rest) if bound is None else bisect_left(rest, bound, at)
            taken += rest[at:cut]
            at = cut
            sources = following
            if not taken:  # a run's whole block holds one key: read on until the key changes
                for blocks, current, left in sources:
                    if left[0] and current[-1] >> shift == bound_key:
                        left[0] -= 1
                        current += next(blocks)
                continue
            taken.sort()
            yield taken
        if at < len(rest):
            yield rest[at:]

    def repeats(self, limit: int | None = None) -> tuple[list[tuple[int, int, str]], int]:
        """``([(line, first_line, ID Number), ...], count)``: every row whose ID Number came
        before, by line — the first ``limit`` of them when given — and how many there are."""
        if not any(any(map(eq, keys, islice(keys, 1, None))) for keys in self._sorted_blocks(with_lines=False)):
            return [], 0  # the rule: no repeat, and no Python code per row
        found: list[tuple[int, int, int]] = []  # a max-heap on line (negated) of the first `limit`
        total = 0
        for rows in self._sorted_blocks(with_lines=True):
            previous = -1
            first = 0
            for row in rows:
                key = row >> _LINE_BITS
                if key != previous:
                    previous, first = key, row & _LINE_MASK
                    continue
                total += 1
                item = (-(row & _LINE_MASK), first, key)
                if limit is None or len(found) < limit:
                    heapq.heappush(found, item)
                elif item > found[0]:
                    heapq.heapreplace(found, item)
        listed = sorted((-line, first, _id_of_key(key)) for line, first, key in found)
        return listed, total

    def close(self) -> None:
        """Delete the temporary file (also done when the object is garbage-collected)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def duplicate_errors(ids: DuplicateIds, limit: int | None = None) -> tuple[list[ReportError], int]:
    """The report's errors for the repeated ID Numbers of a file read to its end: the first
    ``limit`` by line (all when None), and how many there are."""
    listed, total = ids.repeats(limit)
    return [
        ReportError(line=line, field=field, message=message)
        for line, first, id_number in listed
        for field, message in (duplicate_problem(id_number, first),)
    ], total
