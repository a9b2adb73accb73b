"""What the hostile-input tests share: a watchdog against hangs, and fuzzing budgets.

`watchdog()` fails a test (rather than hanging the suite, or exhausting the machine's memory)
when a reader blocks on a FIFO, reads /dev/zero without end or falls into quadratic time: an
alarm after `seconds`, and at most 1 GiB more address space than the process has on entry. It is
a guard against regressions, not a speed measurement (speed is measured in `benchmarks/`).

`fuzz_settings(n)`: hypothesis settings for a fuzzing property, `n` examples in CI times
$LEUKORULES_FUZZ_SCALE (default 1), so `LEUKORULES_FUZZ_SCALE=50 pytest tests/test_hostile_*`
is the larger local run. Besides the example count it only turns off the deadline and the
too_slow / data_too_large health checks (hostile inputs are slow and large on purpose); every
other setting comes from the hypothesis profile loaded at the time (`conftest.py`).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]


class Hung(Exception):
    """A reader blocked, read without limit, or took far longer than it should."""


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmSize:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) * 1024 if found else None


@contextlib.contextmanager
def watchdog(seconds: int = 30) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):  # pragma: no cover - not POSIX
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise Hung(f"still running after {seconds} s: blocked, unbounded or quadratic")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    limits = resource.getrlimit(resource.RLIMIT_AS) if resource is not None else None
    used = _address_space()
    if limits is not None and used is not None and limits[0] == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, limits[1]))
    try:
        yield
    finally:
        if limits is not None:
            resource.setrlimit(resource.RLIMIT_AS, limits)
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def fuzz_scale() -> int:
    return max(1, int(os.environ.get("LEUKORULES_FUZZ_SCALE", "1")))


def fuzz_settings(examples: int) -> Any:
    """`@fuzz_settings(n)`: n examples times $LEUKORULES_FUZZ_SCALE, no deadline."""
    return settings(
        max_examples=examples * fuzz_scale(),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
