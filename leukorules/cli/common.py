"""What every command shares: policy loading with diagnostics, colour decisions, exit codes, and
the garbage collector resting while a command starts up."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click

from leukorules.syntax.grammar import bundled_policy_dir  # light: no parser

if TYPE_CHECKING:
    from leukorules.check import CheckResult
    from leukorules.diagnostics import Diagnostic

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

Params = ParamSpec("Params")
Result = TypeVar("Result")


@contextlib.contextmanager
def collector_resting() -> Iterator[Callable[[], None]]:
    """Python's cyclic garbage collector off for the block; the callback it gives, and the
    block's end, turn it back on (if it was) with every object made so far frozen (`gc.freeze`).

    A command's start-up (the policy, the libraries it imports, their modules) makes hundreds of
    thousands of objects that live until the process ends, and the collector scans them again
    and again for nothing. Measured: `batch` of 1,000,000 Parquet rows made 104-138 collections
    taking 18-72 ms, and 39 taking 6 ms with this; `evaluate` spent 23 ms in 75 collections,
    and the full collection at interpreter exit took 36-54 ms where the frozen objects make it
    0.2 ms. What is made after the callback is collected as usual: `batch` calls it as its
    records start to flow (`run_batch`'s `started`), so a long run's memory stays bounded."""
    enabled = gc.isenabled()
    gc.disable()

    def resume() -> None:
        gc.freeze()
        if enabled:
            gc.enable()

    try:
        yield resume
    finally:
        resume()


def collector_resting_throughout(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """`command` (a short one: one patient, one record) run inside `collector_resting`."""

    @functools.wraps(command)
    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        with collector_resting():
            return command(*args, **kwargs)

    return run


def use_color(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def policy_paths(paths: tuple[Path, ...] | list[Path] | None) -> list[Path]:
    return list(paths) if paths else [bundled_policy_dir()]


def default_policy_note(paths: tuple[Path, ...] | list[Path] | None) -> str | None:
    """When a command was given no policy path: the line naming the policy folder it used.

    An author who edits `policies/` in a checkout after a plain `pip install .` would otherwise
    see the installed copy's results and never know: the line says which folder was read, and
    for the installed copy how to make the checkout's folder the one used.
    """
    if paths:
        return None
    folder = bundled_policy_dir()
    installed = folder.parent.parent.name == "_data"  # inside the wheel, not a checkout
    origin = (
        "the copy installed with leukorules; to use a checkout's policies/, install it with "
        "`pip install -e .` or give the folder"
        if installed
        else "the bundled policy"
    )
    return f"policy folder: {folder} ({origin})"


def echo_default_policy_note(
    paths: tuple[Path, ...] | list[Path] | None, err: bool = False
) -> None:
    """`default_policy_note` as the first line of a text output (on stderr with `err`, for
    commands whose stdout is machine-readable or must stay as it is)."""
    note = default_policy_note(paths)
    if note is not None:
        click.echo(note, err=err)


def print_diagnostics(result: CheckResult, diagnostics: list[Diagnostic] | None = None) -> None:
    """Diagnostics of a policy to stderr, used by commands whose stdout is something else."""
    from leukorules.diagnostics import render_text

    shown = result.diagnostics if diagnostics is None else diagnostics
    text = render_text(shown, result.sources, color=use_color(sys.stderr))
    if text:
        click.echo(text, err=True, nl=False)


def load_or_exit(paths: list[Path]) -> CheckResult:
    """Check a policy for a command that needs one; on errors print them and exit 1."""
    from leukorules.check import check_paths
    from leukorules.diagnostics import Severity

    result = check_paths(paths)
    if result.policy is None:
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        print_diagnostics(result, errors)
        names = ", ".join(str(p) for p in paths)
        fail(f"policy {names} has {len(errors)} error(s); run `leukorules check` on it")
    return result


def fail(message: str, status: int = EXIT_BAD_INPUT) -> NoReturn:
    click.echo(f"leukorules: error: {message}", err=True)
    sys.exit(status)
