"""`leukorules fmt`: rewrite policy files in the canonical layout.

Each file is parsed, formatted, checked to hold exactly what it held before (declarations and
comments) and, only then, replaced atomically (a temporary file beside it, then `os.replace`).
A file with syntax errors is never touched; its diagnostics go to stderr. Status lines go to
stderr and diffs to stdout, so `--diff` output can be piped to `patch`.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import click

from leukorules import messages as msg
from leukorules.check.loader import POLICY_SUFFIX, display_path
from leukorules.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    echo_default_policy_note,
    policy_paths,
    use_color,
)
from leukorules.diagnostics import Diagnostic, render_text
from leukorules.reading import SourceError, kind_of_path, read_source
from leukorules.source import SourceFile, Span
from leukorules.syntax.formatter import format_source, same_content
from leukorules.syntax.parser import parse


def policy_files(paths: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Files and folders -> the files to format: a folder means every *.rules file under it.

    Paths that are neither (a device, a FIFO) are reported by what they are, never read."""
    files: list[Path] = []
    problems: list[Diagnostic] = []
    seen: set[Path] = set()

    def at(path: Path) -> Span:
        return Span.point(display_path(path), 1, 1)

    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{POLICY_SUFFIX}") if p.is_file())
            if not found:
                problems.append(msg.FOLDER_WITHOUT_POLICY.at(at(path), suffix=POLICY_SUFFIX))
        elif path.is_file():
            found = [path]
        elif path.exists():
            found = []
            kind = kind_of_path(path) or msg.KIND_SPECIAL
            name = display_path(path)
            problems.append(msg.NOT_A_POLICY_FILE.at(at(path), name=name, kind=kind))
        else:
            found = []
            problems.append(msg.NO_SUCH_PATH.at(at(path), suffix=POLICY_SUFFIX))
        for file in found:
            key = file.resolve()
            if key not in seen:
                seen.add(key)
                files.append(file)
    return files, problems


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file's content in one step: readers see the old file or the new one."""
    target = path.resolve()
    mode = stat.S_IMODE(target.stat().st_mode)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class _Run:
    def __init__(self, check: bool, show_diff: bool) -> None:
        self.check = check
        self.show_diff = show_diff
        self.changed: list[str] = []
        self.unchanged = 0
        self.failed = 0

    def report(self, diagnostics: list[Diagnostic], sources: dict[str, SourceFile]) -> None:
        self.failed += 1
        text = render_text(diagnostics, sources, color=use_color(sys.stderr))
        click.echo(text, err=True, nl=False)

    def error(self, message: str) -> None:
        self.failed += 1
        click.echo(f"leukorules: error: {message}", err=True)

    def file(self, path: Path) -> None:
        name = display_path(path)
        try:
            source = read_source(path, name)  # a regular file, read up to the size limit
        except SourceError as error:
            self.report([error.diagnostic], {})
            return
        except OSError as error:
            self.error(f"cannot read {name}: {error.strerror or error}")
            return
        formatted, diagnostics = format_source(source.text, name)
        if formatted is None:
            self.report(diagnostics, {name: source})
            click.echo(f"leukorules: {name} has syntax errors and was left unchanged", err=True)
            return
        new = formatted.encode("utf-8")
        if hashlib.sha256(new).hexdigest() == source.sha256:  # the bytes read, BOM included
            self.unchanged += 1
            return
        if not _verified(source, formatted):
            self.error(f"formatting {name} would change what it says; it was left unchanged")
            return
        self.changed.append(name)
        if self.show_diff:
            diff = difflib.unified_diff(
                source.text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{name}\t(original)",
                f"{name}\t(formatted)",
            )
            click.echo("".join(_terminated(diff)), nl=False)
        if self.check or self.show_diff:
            click.echo(f"would reformat {name}", err=True)
            return
        try:
            write_atomically(path, new)
        except OSError as error:
            self.changed.pop()
            self.error(f"cannot write {name}: {error.strerror or error}")
            return
        click.echo(f"reformatted {name}", err=True)

    def summary(self) -> str:
        def files(count: int) -> str:
            return f"{count} file{'s' if count != 1 else ''}"

        dry = self.check or self.show_diff
        parts = [
            f"{files(len(self.changed))} {'would be reformatted' if dry else 'reformatted'}",
            f"{files(self.unchanged)} {'would be left' if dry else 'left'} unchanged",
        ]
        if self.failed:
            parts.append(f"{files(self.failed)} with errors")
        return ", ".join(parts)


def _terminated(lines: Iterable[str]) -> list[str]:
    """Diff lines, each ending in a newline (the last line of a file may lack one)."""
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return out


def _verified(source: SourceFile, formatted: str) -> bool:
    """The formatted text parses to the same content and is itself fully formatted."""
    before, _ = parse(source)
    after, _ = parse(SourceFile.from_text(source.path, formatted))
    if before is None or after is None or not same_content(before, after):
        return False
    again, _ = format_source(formatted, source.path)
    return again == formatted


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file would change.")
@click.option(
    "--diff", "show_diff", is_flag=True, help="Write nothing; print what would change as a diff."
)
def fmt(paths: tuple[Path, ...], check: bool, show_diff: bool) -> None:
    """Format policy files in the canonical layout (default: the bundled policies).

    Folders mean every .rules file under them. Files are rewritten in place unless --check or
    --diff is given; comments are kept, and a file with syntax errors is left untouched.

    Exit status: 0 done (with --check: nothing to change), 1 a file would change (--check), has
    syntax errors or cannot be read or written, 2 usage error.
    """
    echo_default_policy_note(paths, err=True)  # stdout is for diffs
    targets, problems = policy_files(policy_paths(paths))
    run = _Run(check, show_diff)
    for problem in problems:
        run.report([problem], {})
    for path in targets:
        try:
            run.file(path)
        except Exception as error:  # a bug must not become a traceback
            run.error(f"internal error while formatting {display_path(path)}: {error!r}")
    click.echo(run.summary(), err=True)
    failed = run.failed or (check and run.changed)
    sys.exit(EXIT_BAD_INPUT if failed else EXIT_OK)
