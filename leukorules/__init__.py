"""leukorules: clinical guidelines as checked, traceable rules.

The public API is what this module exports; everything else is internal and may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
