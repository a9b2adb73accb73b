"""Policy files from disk: bytes -> a `SourceFile`, or the diagnostic saying why not.

Input: a path (or bytes already read). Output: a decoded `SourceFile`, or `SourceError` holding
one diagnostic (LR101 too large, LR102 not UTF-8 text) located at the offending byte. A leading
byte-order mark is dropped; the sha256 is of the bytes as read.
"""

from __future__ import annotations

from pathlib import Path

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.source import SourceFile, Span

# A policy file larger than this is refused before parsing: real guidelines are kilobytes, and a
# runaway generated file should get a diagnostic, not minutes of parsing.
MAX_SOURCE_BYTES = 8 * 1024 * 1024


class SourceError(Exception):
    """A file that cannot become a SourceFile, with the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _too_large(path: str, size: int) -> SourceError:
    return SourceError(
        msg.FILE_TOO_LARGE.at(Span.point(path, 1, 1), size=size, limit=MAX_SOURCE_BYTES)
    )


def decode_source(path: str, raw: bytes) -> SourceFile:
    """Decode policy bytes as UTF-8, refusing binary data with a located error."""
    if len(raw) > MAX_SOURCE_BYTES:
        raise _too_large(path, len(raw))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = raw[: error.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        at = Span.point(path, line, column)
        raise SourceError(msg.FILE_NOT_UTF8.at(at, byte=raw[error.start])) from None
    nul = text.find("\x00")
    if nul >= 0:
        line, column = SourceFile.from_text(path, text, raw).position(nul)
        raise SourceError(msg.FILE_HAS_NUL.at(Span.point(path, line, column)))
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile.from_text(path, text, raw)


def read_source(path: Path, display: str | None = None) -> SourceFile:
    """Read and decode a policy file; OSError and SourceError propagate to the caller."""
    name = display if display is not None else str(path)
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise _too_large(name, size)
    return decode_source(name, path.read_bytes())
