"""Policy source files in the decision log: collected at logging time, restored for replay.

Input (logging): the source list of an evaluation (display path + sha256, in load order) and
optionally their contents. Output: `StoredSource`s (display path, path relative to the policy's
root folder, sha256) and the bytes to store once per sha256.

Input (replay): stored sources and their bytes. Output: the files written under a fresh folder at
their relative paths, so `include` lines resolve exactly as they did when the decision was made.

Guarantees: a source whose bytes do not hash to what the evaluation reported is refused (the file
changed between evaluating and logging); a stored relative path that would escape the replay
folder (absolute, `..`) is refused, so a tampered log cannot write outside it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from leukorules.audit.store import AuditError, StoredSource, sha256_hex


def _content_for(path: str, digest: str, provided: Mapping[str, str | bytes] | None) -> bytes:
    if provided is not None and path in provided:
        given = provided[path]
        if isinstance(given, bytes):
            return given
        data = given.encode("utf-8")
        # a decoded source has lost its byte-order mark; the hash was taken over the raw bytes
        if sha256_hex(data) != digest and sha256_hex(b"\xef\xbb\xbf" + data) == digest:
            return b"\xef\xbb\xbf" + data
        return data
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise AuditError(
            f"cannot store policy source {path} in the decision log: {error.strerror or error}"
        ) from None


def collect(
    listed: Sequence[tuple[str, str]], provided: Mapping[str, str | bytes] | None
) -> tuple[list[StoredSource], dict[str, bytes]]:
    """(display path, sha256) pairs in load order -> stored sources and their contents."""
    if not listed:
        raise AuditError("the evaluation lists no policy source files; nothing to replay from")
    contents: dict[str, bytes] = {}
    absolute: list[str] = []
    for path, digest in listed:
        data = _content_for(path, digest, provided)
        if sha256_hex(data) != digest:
            raise AuditError(
                f"policy source {path} has changed since it was evaluated (its sha256 no longer "
                "matches the evaluation's); evaluate again, then log"
            )
        contents[digest] = data
        absolute.append(os.path.normpath(os.path.join(os.getcwd(), path)))
    root = os.path.commonpath([os.path.dirname(a) for a in absolute])
    stored = [
        StoredSource(path, PurePosixPath(Path(os.path.relpath(a, root))).as_posix(), digest)
        for (path, digest), a in zip(listed, absolute, strict=True)
    ]
    return stored, contents


def safe_relative(rel: str) -> PurePosixPath:
    relative = PurePosixPath(rel)
    if (
        not rel
        or relative.is_absolute()
        or any(part in ("..", "") for part in relative.parts)
        or "\\" in rel
        or ":" in rel
    ):
        raise AuditError(f"stored policy source path {rel!r} is not a plain relative path")
    return relative


def restore(sources: Sequence[StoredSource], contents: Mapping[str, bytes], folder: Path) -> None:
    """Write every source under `folder` at its stored relative path."""
    for source in sources:
        target = folder.joinpath(*safe_relative(source.rel).parts)
        existing = target.read_bytes() if target.exists() else None
        data = contents[source.sha256]
        if existing is not None and existing != data:
            raise AuditError(f"two stored policy sources claim the same path {source.rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
