"""A per-user disk cache of checked and compiled policies, for quick `leukorules evaluate` runs.

Input: the policy paths a command was given. Output: the `CompiledPolicy` a full check and
compile of those paths gives (same policy, same sources under the same names, same generated
code), or None when there is no entry that is certainly current.

An entry is used only when all of this is unchanged: the bytes of every source file the check
read (each is read and hashed again), the policy files each given folder holds, the working
directory (source names in diagnostics are relative to it), the leukorules version and the bytes
of its own code (parser, grammar, checker, model, generator: every module of the package) and
the Python version (the generated code is kept compiled). Only policies without errors are
kept. Anything unexpected (a missing, foreign, corrupt or stale entry, an unreadable file) means
"no entry": the caller checks the policy in full, as without a cache.

Entries are pickles, which is safe only because the folder is the user's own: the same folder
as the parser's grammar cache (`$XDG_CACHE_HOME/leukorules`, mode 0700), and an entry is read
only when the folder and the file belong to the current user and nobody else can write them.
`LEUKORULES_NO_CACHE=1` turns it off. `leukorules check` never uses it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leukorules import model as m
from leukorules.cachedir import cache_folder, is_private
from leukorules.reading import MAX_SOURCE_BYTES, read_regular_file
from leukorules.version import __version__

if TYPE_CHECKING:
    from leukorules.engine.compile import CompiledPolicy

_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent
_POLICY_SUFFIX = ".rules"


@cache
def code_digest() -> str:
    """sha256 over the leukorules version, the Python version and every module of the package
    (what checks, compiles and names a policy): each module by its path, size and modification
    time, the test Python itself uses to tell a stale bytecode file. Reading and hashing every
    module cost a tenth of a cached `evaluate`; an edited module still means a new key."""
    digest = hashlib.sha256(f"{_FORMAT}\0{__version__}\0{sys.version}\0".encode())
    for folder, subfolders, names in os.walk(_PACKAGE):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".lark")):
                status = os.stat(os.path.join(folder, name))
                relative = os.path.relpath(os.path.join(folder, name), _PACKAGE)
                digest.update(f"{relative}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _folder_listing(path: Path) -> list[str]:
    # the files `leukorules.check.loader` reads from a folder
    return sorted(str(p) for p in path.rglob(f"*{_POLICY_SUFFIX}") if p.is_file())


def _lookup_key(paths: list[Path]) -> str:
    parts = [code_digest(), os.getcwd()]
    for path in paths:
        parts.append(("D:" if path.is_dir() else "F:") + str(path.absolute()))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _entry_file(folder: Path, key: str) -> Path:
    return folder / f"policy-{key[:32]}.pickle"


def _listings(paths: list[Path]) -> list[tuple[str, list[str]]]:
    return [(str(p.absolute()), _folder_listing(p)) for p in paths if p.is_dir()]


def _sha256_file(name: str) -> str:
    # Through the bounded reader: a policy file swapped for a FIFO or a device since it was
    # cached must not block or read without end (it raises; the caller then checks afresh).
    return hashlib.sha256(read_regular_file(Path(name), MAX_SOURCE_BYTES)).hexdigest()


def load_cached(paths: list[Path]) -> CompiledPolicy | None:
    """The cached compilation of `paths`, or None (no entry, a stale one, any problem)."""
    entry = _current_entry(paths)
    if entry is None:
        return None
    try:
        from leukorules.engine.compile import CompiledPolicy

        return CompiledPolicy.from_cache(entry["compiled"])
    except Exception:
        return None


def load_cached_policy(paths: list[Path]) -> m.Policy | None:
    """The checked policy of the cached compilation of `paths`, or None (as `load_cached`),
    without the compiled evaluator: `batch` needs only the policy, and importing the engine
    would cost it about 45 ms of start-up."""
    entry = _current_entry(paths)
    try:
        policy = entry["compiled"]["policy"] if entry is not None else None
    except Exception:
        return None
    return policy if isinstance(policy, m.Policy) else None


def _current_entry(paths: list[Path]) -> dict[str, Any] | None:
    """The cache entry of `paths` if it is certainly current, else None."""
    try:
        folder = cache_folder()
        if folder is None:
            return None
        key = _lookup_key(paths)
        file = _entry_file(folder, key)
        with open(file, "rb") as handle:
            if not is_private(os.fstat(handle.fileno())):
                return None
            entry: dict[str, Any] = pickle.load(handle)
        if entry.get("format") != _FORMAT or entry.get("key") != key:
            return None
        if entry["listings"] != _listings(paths):
            return None
        for name, digest in entry["files"]:
            if _sha256_file(name) != digest:
                return None
        return entry
    except Exception:
        return None


def store(paths: list[Path], compiled: CompiledPolicy) -> None:
    """Keep `compiled` (checked from `paths` in this working directory) for `load_cached`.
    Failing to write is not an error: the next run checks in full again."""
    try:
        folder = cache_folder()
        if folder is None:
            return
        key = _lookup_key(paths)
        files = [
            (os.path.abspath(name), source.sha256) for name, source in compiled.sources.items()
        ]
        for name, digest in files:  # what was checked must still be what is on disk
            if _sha256_file(name) != digest:
                return
        entry = {
            "format": _FORMAT,
            "key": key,
            "listings": _listings(paths),
            "files": files,
            "compiled": compiled.cache_state(),
        }
        data = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".policy-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temporary, _entry_file(folder, key))
        except BaseException:
            os.unlink(temporary)
            raise
    except Exception:
        return
