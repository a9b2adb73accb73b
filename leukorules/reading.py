"""Files from disk: the one bounded reader every stage uses, and policy files -> `SourceFile`.

Input: a path and a size limit (or, for policies, bytes already read). Output: the bytes of a
regular file, at most `limit` of them; for policies a decoded `SourceFile`.

`read_regular_file` is the only way leukorules reads a file a user named (policies and their
includes, facts, scenarios, guideline sources): anything that is not a regular file (a folder, a
device such as /dev/zero, a FIFO, a socket) is refused by kind before a byte is read, and the
size limit is enforced while reading, not trusted from `stat` (a file can grow, and /proc files
report size 0). A FIFO is never opened in blocking mode, so refusing one cannot hang. Each caller
turns the refusal into its own diagnostic; the words for each kind are declared in
`leukorules.messages` (`KIND_*`).

`read_source` and `decode_source` make a `SourceFile` of a policy file, or raise `SourceError`
holding one diagnostic (LR101 too large, LR102 not UTF-8 text, LR103 not a regular file) located
at the offending byte. A leading byte-order mark is dropped; the sha256 is of the bytes as read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.source import SourceFile, Span

# A policy file larger than this is refused before parsing: real guidelines are kilobytes, and a
# runaway generated file should get a diagnostic, not minutes of parsing.
MAX_SOURCE_BYTES = 8 * 1024 * 1024

# Opened without blocking (a FIFO with no writer would otherwise wait forever) and without
# becoming the controlling terminal; both are no-ops for the regular files that are read.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_CHUNK = 1024 * 1024


class FileRefused(Exception):
    """A path `read_regular_file` will not read: not a regular file, or over the limit."""


class NotARegularFile(FileRefused):
    def __init__(self, kind: str) -> None:
        super().__init__(f"it is {kind}")
        self.kind = kind  # one of `messages.KIND_*`, e.g. "a FIFO (named pipe)"


class FileTooLarge(FileRefused):
    def __init__(self, limit: int, size: int | None) -> None:
        super().__init__(f"larger than {limit:,} bytes")
        self.limit = limit
        self.size = size  # as `stat` reported it; None when it only showed while reading


def kind_of_mode(mode: int) -> str | None:
    """What a file is, in words (`messages.KIND_*`), when it is not a regular file; else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return msg.KIND_FOLDER
    if stat.S_ISFIFO(mode):
        return msg.KIND_FIFO
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return msg.KIND_DEVICE
    if stat.S_ISSOCK(mode):
        return msg.KIND_SOCKET
    return msg.KIND_SPECIAL


def kind_of_path(path: Path) -> str | None:
    """`kind_of_mode` of what `path` names (links followed); None for a regular file.
    OSError (a missing file, a denied folder) propagates."""
    return kind_of_mode(os.stat(path).st_mode)


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (links followed), at most `limit` of them.

    Raises `NotARegularFile` (by kind), `FileTooLarge`, or OSError (missing, denied, ...).
    The kind is checked before opening and again on the open file, so a path swapped for a
    FIFO in between is refused too.
    """
    kind = kind_of_path(path)
    if kind is not None:
        raise NotARegularFile(kind)
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        kind = kind_of_mode(info.st_mode)
        if kind is not None:
            raise NotARegularFile(kind)
        if info.st_size > limit:
            raise FileTooLarge(limit, info.st_size)
        chunks: list[bytes] = []
        remaining = limit + 1  # one byte more than allowed tells "too large" from "exactly"
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(descriptor)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileTooLarge(limit, None)
    return data


class SourceError(Exception):
    """A file that cannot become a SourceFile, with the diagnostic that says why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _too_large(path: str, size: int | None) -> SourceError:
    at = Span.point(path, 1, 1)
    if size is None:
        return SourceError(msg.FILE_OVER_LIMIT.at(at, limit=MAX_SOURCE_BYTES))
    return SourceError(msg.FILE_TOO_LARGE.at(at, size=size, limit=MAX_SOURCE_BYTES))


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


def read_source(path: Path, display: str | None = None, at: Span | None = None) -> SourceFile:
    """Read and decode a policy file. Raises `SourceError` (too large, not a regular file, not
    UTF-8 text; located at `at`, the include naming the file, when given) or OSError."""
    name = display if display is not None else str(path)
    try:
        raw = read_regular_file(path, MAX_SOURCE_BYTES)
    except NotARegularFile as refused:
        where = at or Span.point(name, 1, 1)
        raise SourceError(msg.NOT_A_POLICY_FILE.at(where, name=name, kind=refused.kind)) from None
    except FileTooLarge as refused:
        raise _too_large(name, refused.size) from None
    return decode_source(name, raw)
