"""The lines of a cohort file, bounded: a record larger than a record may be is never held whole.

Input: a JSON Lines or CSV cohort file opened for reading (binary for JSON Lines, text with
`newline=""` for CSV). Output: its lines, each with its line break.

- JSON Lines (`bounded_lines`): `None` in place of a line longer than `MAX_ROW_BYTES` (its UTF-8
  bytes, the line break not counted), which is read past in chunks.
- CSV (`CsvLines`, the lines `csv.reader` reads): a record (one line, or several when a quoted
  field holds line breaks) larger than `MAX_ROW_BYTES` raises `RecordTooLarge` from the reader,
  once, after the whole record was read past: its end is the first line break after an even
  number of quotes since the record began, as a CSV reader ends it. The reader then reads on
  from the next record.

Memory holds at most `MAX_ROW_BYTES` + 2 characters of one line, and one record, however long the
file's lines are. A long line of nothing but blanks is a blank line (`"\n"`), as a short one is:
blank lines are not records.

`open_cohort` opens the file without blocking (a FIFO swapped in after the cohort was checked
cannot hang the run) and refuses anything but a regular file.

The bound is the limit of a patient's facts file (`leukorules.engine.facts_file.MAX_FACTS_BYTES`):
a record holds one patient's facts. Both engines read records through here, so a record over it
is one rejected record on both, with its row number.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, AnyStr

from leukorules.reading import kind_of_mode

MAX_ROW_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotACohortFile(Exception):
    """What `open_cohort` was given is not a regular file; `kind` says what it is."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def open_cohort(path: Path) -> IO[bytes]:
    """`path` opened for binary reading: a regular file, else `NotACohortFile` (OSError when it
    cannot be opened). Opened without blocking, so a FIFO is refused, not waited on."""
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        kind = kind_of_mode(os.fstat(descriptor).st_mode)
        if kind is not None:
            raise NotACohortFile(kind)
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):  # reads of a regular file wait as ever
            os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def bounded_lines(handle: IO[AnyStr], limit: int = MAX_ROW_BYTES) -> Iterator[AnyStr | None]:
    """Each line of `handle`, or None for a line longer than `limit` (see the module)."""
    readline = handle.readline
    size = limit + 2  # the line, and room for "\r\n"
    quick = limit // 4  # characters that surely fit: a character is at most 4 bytes
    while True:
        line = readline(size)
        if not line:
            return
        if len(line) <= quick or _fits(line, limit):  # the first test decides almost every line
            yield line
            continue
        blank = not line.strip()
        while not _ended(line):
            line = handle.readline(_CHUNK)
            if not line:
                break
            blank = blank and not line.strip()
        if blank:
            yield line[:0] + _newline(line)
        else:
            yield None


def _ended(line: str | bytes) -> bool:
    """Whether `line` ends with its line break: "\\n" in bytes (JSON Lines split there only),
    also a lone "\\r" in text (CSV, read with universal line ends)."""
    if isinstance(line, bytes):
        return line.endswith(b"\n")
    return line.endswith(("\n", "\r"))


def _newline(line: AnyStr) -> AnyStr:
    return b"\n" if isinstance(line, bytes) else "\n"


def _size(content: str | bytes) -> int:
    if isinstance(content, bytes):
        return len(content)
    return len(content.encode("utf-8", "surrogateescape"))


def _fits(line: str | bytes, limit: int) -> bool:
    content = line.rstrip(b"\r\n" if isinstance(line, bytes) else "\r\n")  # type: ignore[arg-type]
    # A line cut short by the read (no line break, and as long as asked) goes on past it.
    return _size(content) <= limit and (_ended(line) or len(line) < limit + 2)


class RecordTooLarge(Exception):
    """A CSV record over MAX_ROW_BYTES, raised through `csv.reader` (which then reads on)."""


class CsvLines:
    """The lines of a CSV file for `csv.reader`, bounded by record (see the module). Call
    `record_done` after each record the reader gives or refuses, so that the next line starts a
    record here too. (An iterator object, not a generator: a generator that raises is over.)"""

    def __init__(self, handle: IO[str], limit: int = MAX_ROW_BYTES) -> None:
        self.handle = handle
        self.limit = limit
        self.size = 0  # bytes of the current record so far (0: a record starts)
        self.quotes = 0  # quote characters in it so far: odd while a quoted field is open
        self._readline = handle.readline
        self._quick = limit // 4  # characters that surely fit (a character is at most 4 bytes)

    def record_done(self) -> None:
        self.size = 0
        self.quotes = 0

    def __iter__(self) -> CsvLines:
        return self

    def __next__(self) -> str:
        line = self._readline(self.limit + 2)
        if not line:
            raise StopIteration
        fresh = self.size == 0
        if fresh and len(line) <= self._quick and not line.count('"') & 1:
            return line  # a whole record on one line, surely within the limit: most lines
        content = line.rstrip("\r\n")
        # The record's size: its bytes but for its last line break (so a one-line record is
        # measured as a JSON Lines line is); the breaks inside a quoted field count.
        self.size += _size(content)
        fits = self.size <= self.limit and (_ended(line) or len(line) < self.limit + 2)
        self.size += len(line) - len(content)
        self.quotes += line.count('"')
        if fits:
            return line
        blank = fresh and not line.strip()
        while not (_ended(line) and self.quotes % 2 == 0):
            line = self.handle.readline(_CHUNK)
            if not line:
                break
            self.quotes += line.count('"')
            blank = blank and not line.strip()
        self.record_done()
        if blank:
            return "\n"
        raise RecordTooLarge
