"""leukorules: clinical guidelines as checked, traceable rules.

The public API is what this module exports; everything else is internal and may change.
`load_policy`, `CompiledPolicy`, `Evaluation` and `PolicyError` are imported on first use, so
`import leukorules` (and the command line) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leukorules.version import __version__

__all__ = ["CompiledPolicy", "Evaluation", "PolicyError", "__version__", "load_policy"]

if TYPE_CHECKING:
    from leukorules.api import CompiledPolicy, Evaluation, PolicyError, load_policy

_LAZY = {"load_policy", "CompiledPolicy", "Evaluation", "PolicyError"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from leukorules import api

        return getattr(api, name)
    raise AttributeError(f"module 'leukorules' has no attribute {name!r}")
