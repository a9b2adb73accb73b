"""A watchdog against hangs, for the hostile-input tests.

`watchdog()` fails a test (rather than hanging the suite, or exhausting the machine's memory)
when a reader blocks on a FIFO, reads /dev/zero without end or falls into quadratic time: an
alarm after `seconds`, and at most 1 GiB more address space than the process has on entry. It is
a guard against regressions, not a speed measurement (speed is measured in `benchmarks/`).

Fuzzing budgets are `max_examples=examples(n)` (`support.profiles`), scaled by the hypothesis
profile: `HYPOTHESIS_PROFILE=fuzz pytest tests/test_hostile_*` is the larger local run.
"""

from __future__ import annotations

import contextlib
import re
import signal
from collections.abc import Iterator
from pathlib import Path

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]


class Hung(BaseException):
    """A reader blocked, read without limit, or took far longer than it should. Not an
    `Exception`, so that no `except Exception` of the code under test can swallow it."""


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
