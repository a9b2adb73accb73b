"""The files a cohort run writes: checked against what it reads and against each other, then
written atomically.

Input: the files a run reads (the cohort, the policy's files) and the files it writes (results,
errors, summary), each with the name the user knows it by (`--out`, `the cohort`, ...). Output:
`OutputFiles`, built only when no output is an input or another output; inside its `with` block
each output is written to a temporary file, and on leaving it every temporary file is renamed over
its target (the block succeeded) or removed (it raised, or was interrupted).

Guarantees:

- Files are compared as the file system knows them, by device and inode, never by their names: a
  hard link or a symbolic link to the cohort, or `x/../r.jsonl` for `r.jsonl`, is the same file.
  An output that does not exist yet is known by the device and inode of its nearest existing
  folder and the rest of its path, symbolic links resolved.
- An output that exists must be a regular file the user may write: a folder, a device, a FIFO or a
  read-only file is refused by kind, as every reader refuses them.
- All of that is checked before anything is created or opened for writing (`OutputFiles()`);
  folders a target needs are created when the block starts, after the run's other checks passed.
- A target is never written in place. Its temporary file is made in the target's folder (so on
  the same file system), flushed to disk, and renamed over the target (`os.replace`, atomic); the
  folder is flushed after. An interrupted or failed run leaves each target as it was, or complete
  and new: never half of one. A temporary file is removed on any exception and on SIGINT
  (KeyboardInterrupt); the command line turns SIGTERM and SIGHUP into an exception too
  (`leukorules.cli.batch`). Only SIGKILL or a power cut can leave one, named `.NAME.XXXXXXXX.tmp`
  beside its target, which is then as it was.
- A symbolic link as a target is written through: the file it points to is replaced, the link
  kept. A hard link to a file that is not an input is left holding the old content.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from leukorules.cohort.readers import CohortError
from leukorules.reading import kind_of_mode

# Longest part of a target's name kept in its temporary file's name (file names are limited to
# 255 bytes; the temporary file adds a dot, 8 hex digits and `.tmp`).
_NAME_KEPT = 120
_TEMPORARY_MODE = 0o666  # as `open(..., "w")` creates a file: the umask applies


@dataclass(frozen=True, slots=True)
class NamedFile:
    """A file of a run and what the user knows it as: `--out`, `the cohort`, `policy file`."""

    role: str
    path: Path

    def describe(self) -> str:
        return f"{self.role} {self.path}"


Identity = tuple[object, ...]


def file_identity(path: Path) -> Identity:
    """Who a path is to the file system: (device, inode) of the file it names, links followed;
    for a path that does not exist yet, the device and inode of its nearest existing folder and
    the names below it. Raises OSError only for what stops the search (a denied folder)."""
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except (FileNotFoundError, NotADirectoryError):
        pass
    else:
        return ("file", info.st_dev, info.st_ino)
    below: list[str] = []
    head = real
    while True:
        parent, name = os.path.split(head)
        below.append(name)
        if parent == head:  # pragma: no cover - the root always exists
            return ("path", real)
        head = parent
        try:
            info = os.stat(head)
        except (FileNotFoundError, NotADirectoryError):
            continue
        return ("below", info.st_dev, info.st_ino, tuple(reversed(below)))


def _existing_identity(path: Path) -> Identity | None:
    """An input's identity, or None when it does not exist (its reader reports that)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return ("file", info.st_dev, info.st_ino)


def check_outputs(outputs: Sequence[NamedFile], inputs: Sequence[NamedFile]) -> None:
    """Raise `CohortError` unless every output is a file that can be written without touching an
    input or another output. Reads metadata only; creates and opens nothing."""
    seen: dict[Identity, NamedFile] = {}
    for named in inputs:
        identity = _existing_identity(named.path)
        if identity is not None:
            seen.setdefault(identity, named)
    claimed: dict[Identity, NamedFile] = {}
    for output in outputs:
        try:
            identity = file_identity(output.path)
        except OSError as error:
            raise CohortError(f"cannot write {output.describe()}: {_reason(error)}") from None
        if identity[0] == "file":
            _check_writable(output)
        same_input = seen.get(identity)
        if same_input is not None:
            raise CohortError(
                f"{output.describe()} is the same file as {same_input.describe()}"
                f"{_how_linked(output.path, same_input.path)}; nothing was written: "
                "write the output to a file of its own"
            )
        same_output = claimed.get(identity)
        if same_output is not None:
            raise CohortError(
                f"{same_output.describe()} and {output.describe()} are the same file"
                f"{_how_linked(output.path, same_output.path)}; nothing was written: "
                "give each output a file of its own"
            )
        claimed[identity] = output


def _how_linked(one: Path, other: Path) -> str:
    """How two names of one file are related, when it is not plain to see."""
    if os.path.realpath(one) != os.path.realpath(other):
        return " (a hard link to it)"
    if os.path.islink(one) or os.path.islink(other):
        return " (a symbolic link to it)"
    return ""


def _check_writable(output: NamedFile) -> None:
    real = os.path.realpath(output.path)  # what is replaced (see `OutputFiles`)
    kind = kind_of_mode(os.stat(real).st_mode)
    if kind is not None:
        raise CohortError(f"{output.describe()} is {kind}; give the name of a file to write")
    if not os.access(real, os.W_OK):
        raise CohortError(f"{output.describe()} is read-only; nothing was written")


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


class OutputFiles:
    """The outputs of one run, checked at construction (see `check_outputs`). Inside `with`:
    `temporary(path)` is the file to write for the target `path`; leaving the block normally
    renames every temporary file over its target, leaving it by an exception (or
    KeyboardInterrupt, or any other BaseException) removes them."""

    def __init__(self, outputs: Sequence[NamedFile], inputs: Sequence[NamedFile]) -> None:
        check_outputs(outputs, inputs)
        self.outputs = tuple(outputs)
        self._temporary: dict[Path, Path] = {}  # target as given -> its temporary file
        self._targets: dict[Path, Path] = {}  # target as given -> the real path replaced

    def temporary(self, target: Path) -> Path:
        return self._temporary[target]

    def __enter__(self) -> OutputFiles:
        try:
            for output in self.outputs:
                self._create(output)
        except BaseException:
            self.discard()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def _create(self, output: NamedFile) -> None:
        real = Path(os.path.realpath(output.path))
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
            name = f".{real.name[:_NAME_KEPT]}.{secrets.token_hex(4)}.tmp"
            temporary = real.parent / name
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            os.close(os.open(temporary, flags, _TEMPORARY_MODE))
        except OSError as error:
            raise CohortError(f"cannot write {output.describe()}: {_reason(error)}") from None
        self._temporary[output.path] = temporary
        self._targets[output.path] = real
        with contextlib.suppress(OSError):  # an existing target keeps its permissions
            os.chmod(temporary, os.stat(real).st_mode & 0o7777)

    def commit(self) -> None:
        """Flush every temporary file to disk, then rename each over its target."""
        target = None
        try:
            for target, temporary in self._temporary.items():  # noqa: B007 - named on error
                _flush_to_disk(temporary)
            for target, temporary in list(self._temporary.items()):
                real = self._targets[target]
                os.replace(temporary, real)
                del self._temporary[target]
                _flush_folder(real.parent)
        except OSError as error:
            self.discard()
            raise CohortError(f"cannot write {target}: {_reason(error)}") from None

    def discard(self) -> None:
        """Remove the temporary files not yet renamed; the targets stay as they were."""
        for temporary in self._temporary.values():
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        self._temporary.clear()


def _flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _flush_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the platform allows opening a folder)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - not POSIX
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover - file systems that cannot sync a folder
        pass
    finally:
        os.close(descriptor)
