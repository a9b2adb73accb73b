"""leukorules: clinical guidelines as checked, traceable rules.

The public API is what this module exports; everything else is internal and may change.
`load_policy`, `CompiledPolicy`, `Evaluation`, `FactsError`, `PolicyError` and `ValidatedFacts`
are imported on first use, so
`import leukorules` (and the command line) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leukorules.version import __version__

__all__ = [
    "CompiledPolicy",
    "Evaluation",
    "FactsError",
    "PolicyError",
    "ValidatedFacts",
    "__version__",
    "load_policy",
]

if TYPE_CHECKING:
    from leukorules.api import (
        CompiledPolicy,
        Evaluation,
        FactsError,
        PolicyError,
        ValidatedFacts,
        load_policy,
    )

_LAZY = set(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from leukorules import api

        return getattr(api, name)
    raise AttributeError(f"module 'leukorules' has no attribute {name!r}")
