"""Source files and spans.

Input: bytes from disk (or a string). Output: a `SourceFile` holding decoded text, its sha256 and
a line index, and `Span`s that point into it. Every later stage refers to the source only through
these two types, so diagnostics, traces and reports agree on what "line 12, column 5" means.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

# A policy file larger than this is refused before parsing: real guidelines are kilobytes, and a
# runaway generated file should get a diagnostic, not minutes of parsing.
MAX_SOURCE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Span:
    """A region of one source file; lines and columns are 1-based, end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def point(file: str, line: int, column: int) -> Span:
        return Span(file, line, column, line, column + 1)


@dataclass(frozen=True)
class SourceFile:
    """Decoded text of one policy file plus what is needed to print code frames."""

    path: str
    text: str
    sha256: str
    _line_starts: tuple[int, ...] = field(repr=False, compare=False)

    @staticmethod
    def from_text(path: str, text: str, raw: bytes | None = None) -> SourceFile:
        data = raw if raw is not None else text.encode("utf-8")
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
        return SourceFile(path, text, hashlib.sha256(data).hexdigest(), tuple(starts))

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end))
        return Span(self.path, line, column, end_line, end_column)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)


class SourceError(Exception):
    """A file that cannot become a SourceFile; carries the span of the offending byte."""

    def __init__(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.hint = hint


def decode_source(path: str, raw: bytes) -> SourceFile:
    """Decode policy bytes as UTF-8, refusing binary data with a located error."""
    if len(raw) > MAX_SOURCE_BYTES:
        raise SourceError(
            "LR101",
            f"file is {len(raw):,} bytes; policy files are limited to {MAX_SOURCE_BYTES:,} bytes",
            Span.point(path, 1, 1),
            "split the policy into several files joined with `include`",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = raw[: error.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        raise SourceError(
            "LR102",
            f"file is not valid UTF-8: byte 0x{raw[error.start]:02x} cannot be decoded",
            Span.point(path, line, column),
            "policy files are UTF-8 text; re-save the file as UTF-8",
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        source = SourceFile.from_text(path, text, raw)
        line, column = source.position(nul)
        raise SourceError(
            "LR102",
            "file contains a NUL byte; it looks like binary data, not a policy",
            Span.point(path, line, column),
            "policy files are UTF-8 text",
        )
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile.from_text(path, text, raw)


def read_source(path: Path, display: str | None = None) -> SourceFile:
    """Read and decode a policy file; OSError and SourceError propagate to the caller."""
    name = display if display is not None else str(path)
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise SourceError(
            "LR101",
            f"file is {size:,} bytes; policy files are limited to {MAX_SOURCE_BYTES:,} bytes",
            Span.point(name, 1, 1),
            "split the policy into several files joined with `include`",
        )
    return decode_source(name, path.read_bytes())
