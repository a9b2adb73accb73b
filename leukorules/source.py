"""Source files and spans.

Input: bytes from disk (or a string). Output: a `SourceFile` holding decoded text, its sha256 and
a line index, and `Span`s that point into it. Every later stage refers to the source only through
these two types, so diagnostics, traces and reports agree on what "line 12, column 5" means.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field

_NEWLINE = re.compile("\n")


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
        starts.extend(newline.end() for newline in _NEWLINE.finditer(text))
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
