"""The per-user cache folder that the grammar cache and the compiled-policy cache share.

Output: `$XDG_CACHE_HOME/leukorules` (or `~/.cache/leukorules`), created with mode 0700, or None
when caching is off (`LEUKORULES_NO_CACHE=1`) or the folder is not this user's alone. Both
caches hold pickles, which are safe to read only from a folder nobody else can write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def cache_folder() -> Path | None:
    """The per-user cache folder (created 0700), or None when caching is off or impossible."""
    if os.environ.get("LEUKORULES_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "leukorules")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not is_private(os.stat(folder)):
            return None
    except OSError:
        return None
    return Path(folder)


def is_private(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else."""
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
