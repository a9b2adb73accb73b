"""Hypothesis profiles, chosen by `HYPOTHESIS_PROFILE` (or `--hypothesis-profile`):

- `ci`: derandomized (the same examples on every run, so CI never fails by chance) and bounded;
  the default when `CI` is set;
- `dev`: fresh random examples on each run, the default on a workstation;
- `fuzz`: `examples(n)` times 25, for a long hunt: `HYPOTHESIS_PROFILE=fuzz pytest`.

Tests state their budget as `max_examples=examples(n)`, so the profile scales every one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = {"ci": 1, "dev": 1, "fuzz": 25}
# Generated policies and cohorts are big inputs: slow generation is expected, not a smell.
RELAXED = [HealthCheck.too_slow, HealthCheck.data_too_large]


def register() -> None:
    common = {"deadline": None, "suppress_health_check": RELAXED, "print_blob": True}
    settings.register_profile("ci", derandomize=True, database=None, **common)
    settings.register_profile("dev", **common)
    settings.register_profile("fuzz", **common)
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if ci else "dev"))


def examples(n: int) -> int:
    """A test's example budget under the current profile."""
    return n * SCALE.get(settings.get_current_profile_name(), 1)
