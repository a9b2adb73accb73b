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


def _as_bytes(content: str | bytes) -> list[bytes]:
    """The byte strings a content may have had on disk (a decoded text lost its BOM)."""
    if isinstance(content, bytes):
        return [content]
    data = content.encode("utf-8")
    return [data, b"\xef\xbb\xbf" + data]


def _from_disk(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise AuditError(
            f"cannot store policy source {path} in the decision log: the evaluated content "
            f"was not given and the file cannot be read there ({error.strerror or error})"
        ) from None


def collect(
    listed: Sequence[tuple[str, str]], provided: Mapping[str, str | bytes] | None
) -> tuple[list[StoredSource], dict[str, bytes]]:
    """(path, sha256) pairs in load order -> stored sources and their contents.

    Contents are matched to the listed files by sha256, so the keys of `provided` may be any
    path the caller knows the files by; files not provided are read from disk at their listed
    path. A listed path that is a plain relative path is kept as the restore path; otherwise
    (an absolute path) the files are placed relative to the folder that holds them all.
    """
    if not listed:
        raise AuditError("the evaluation lists no policy source files; nothing to replay from")
    by_hash: dict[str, bytes] = {}
    for content in (provided or {}).values():
        for data in _as_bytes(content):
            by_hash.setdefault(sha256_hex(data), data)
    contents: dict[str, bytes] = {}
    for path, digest in listed:
        found = by_hash.get(digest)
        data = found if found is not None else _from_disk(path)
        if sha256_hex(data) != digest:
            raise AuditError(
                f"policy source {path} has changed since it was evaluated (its sha256 no longer "
                "matches the evaluation's); evaluate again, then log"
            )
        contents[digest] = data
    if all(_is_plain_relative(path) for path, _ in listed):
        rels = [PurePosixPath(path).as_posix() for path, _ in listed]
    else:
        absolute = [os.path.normpath(os.path.join(os.getcwd(), path)) for path, _ in listed]
        root = os.path.commonpath([os.path.dirname(a) for a in absolute])
        rels = [Path(os.path.relpath(a, root)).as_posix() for a in absolute]
    stored = [
        StoredSource(path, rel, digest) for (path, digest), rel in zip(listed, rels, strict=True)
    ]
    return stored, contents


def _is_plain_relative(path: str) -> bool:
    try:
        safe_relative(path)
    except AuditError:
        return False
    return True


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
