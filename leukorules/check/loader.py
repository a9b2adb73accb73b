"""Files -> parsed modules, following `include` in source order.

Input: the paths an author named (files or folders). Output: the parsed modules in the order
their items belong to the policy (an include is expanded where it stands), every source file read,
and the diagnostics of reading and parsing. A folder means every `*.rules` file in it that no other
file of the folder includes, in name order.

Every file is read through `leukorules.reading.read_regular_file`: a path (or an include, or an
entry of a folder named `*.rules`) that is a folder, device, FIFO or socket is reported by what it
is, never read, and never confused with a missing file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from leukorules import messages as msg
from leukorules.diagnostics import Diagnostic
from leukorules.reading import (
    MAX_SOURCE_BYTES,
    FileRefused,
    SourceError,
    kind_of_path,
    read_regular_file,
    read_source,
)
from leukorules.source import SourceFile, Span
from leukorules.syntax import ast
from leukorules.syntax.parser import parse

POLICY_SUFFIX = ".rules"


@dataclass
class Loaded:
    modules: list[ast.Module] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # item order across files: (module path, item) with includes expanded in place
    items: list[ast.Item] = field(default_factory=list)
    syntax_ok: bool = True


def display_path(path: Path) -> str:
    """Paths in diagnostics are relative to the working directory when that is shorter."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Files and folders -> the root policy files to load."""
    roots: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob(f"*{POLICY_SUFFIX}") if p.is_file())
            problems.extend(_special_entries(path))
            if not files:
                at = Span.point(display_path(path), 1, 1)
                problems.append(msg.FOLDER_WITHOUT_POLICY.at(at, suffix=POLICY_SUFFIX))
            included = _included_by_any(files)
            roots.extend(f for f in files if f.resolve() not in included)
        elif path.exists():
            roots.append(path)
        else:
            at = Span.point(display_path(path), 1, 1)
            problems.append(msg.NO_SUCH_PATH.at(at, suffix=POLICY_SUFFIX))
    return roots, problems


def _special_entries(folder: Path) -> list[Diagnostic]:
    """Entries of a folder named like policy files that are FIFOs, devices or sockets: they
    are not read, and said so (a folder named `x.rules` is only a folder, and is passed over)."""
    found: list[Diagnostic] = []
    for entry in sorted(folder.rglob(f"*{POLICY_SUFFIX}")):
        try:
            kind = kind_of_path(entry)
        except OSError:
            continue  # a dangling link: not a policy file either
        if kind is not None and kind != msg.KIND_FOLDER:
            name = display_path(entry)
            found.append(msg.NOT_A_POLICY_FILE.at(Span.point(name, 1, 1), name=name, kind=kind))
    return found


def _include_lines(text: str) -> list[tuple[str, int, int]]:
    """`include "x.rules"` lines found by a plain text scan: (target, line, column of the quote).

    Used where no syntax tree is available: to decide a folder's roots before parsing, and to
    follow the includes of a file whose syntax errors kept it from parsing.
    """
    found: list[tuple[str, int, int]] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("include ") and stripped.count('"') >= 2:
            quote = line.index('"')
            found.append((line[quote + 1 : line.index('"', quote + 1)], number, quote + 1))
    return found


def _included_by_any(files: list[Path]) -> set[Path]:
    """Files of a folder that another file of it includes: they are loaded through that include."""
    included: set[Path] = set()
    for file in files:
        try:
            text = read_regular_file(file, MAX_SOURCE_BYTES).decode("utf-8", errors="replace")
        except (OSError, FileRefused):
            continue  # reported when the file itself is loaded
        for target, _, _ in _include_lines(text):
            included.add((file.parent / target).resolve())
    return included


def load(paths: list[Path]) -> Loaded:
    loaded = Loaded()
    roots, problems = expand_paths(paths)
    loaded.diagnostics.extend(problems)
    seen: set[Path] = set()
    for root in roots:
        _load_file(root, None, loaded, seen, ())
    # Files of a folder that only include each other in a cycle have no root; load them too,
    # so the cycle is reported instead of the files being silently left out.
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob(f"*{POLICY_SUFFIX}") if p.is_file()):
                if file.resolve() not in seen:
                    _load_file(file, None, loaded, seen, ())
    return loaded


def _load_file(
    path: Path,
    included_at: Span | None,
    loaded: Loaded,
    seen: set[Path],
    stack: tuple[Path, ...],
) -> None:
    resolved = path.resolve()
    name = display_path(path)
    if resolved in stack:
        cycle = " -> ".join(display_path(p) for p in (*stack, resolved))
        loaded.diagnostics.append(msg.INCLUDE_CYCLE.at(included_at, cycle=cycle))
        return
    if resolved in seen:
        return  # a shared module included twice is loaded once
    seen.add(resolved)
    try:
        source = read_source(path, name, at=included_at)
    except SourceError as error:
        loaded.diagnostics.append(error.diagnostic)
        loaded.syntax_ok = False
        return
    except OSError as error:
        where = included_at or Span.point(name, 1, 1)
        reason = error.strerror or str(error)
        loaded.diagnostics.append(msg.FILE_UNREADABLE.at(where, name=name, reason=reason))
        loaded.syntax_ok = False
        return
    loaded.sources[source.path] = source
    module, diagnostics = parse(source)
    loaded.diagnostics.extend(diagnostics)
    if module is None:
        loaded.syntax_ok = False
        # Still read the files it includes, so their syntax errors come in the same run.
        for written, line, column in _include_lines(source.text):
            included_path = path.parent / written
            if included_path.exists():
                span = Span(name, line, column, line, column + len(written) + 2)
                _load_file(included_path, span, loaded, seen, (*stack, resolved))
        return
    loaded.modules.append(module)
    for item in module.items:
        if isinstance(item, ast.Include):
            target = path.parent / item.path.value
            if not target.exists():  # one that exists but is no regular file is read, and refused
                candidates = sorted(p.name for p in path.parent.glob(f"*{POLICY_SUFFIX}"))
                files_here = "; files here: " + ", ".join(candidates) if candidates else ""
                loaded.diagnostics.append(
                    msg.INCLUDE_MISSING.at(
                        item.path.span, path=item.path.value, files_here=files_here
                    )
                )
                continue
            _load_file(target, item.path.span, loaded, seen, (*stack, resolved))
        else:
            loaded.items.append(item)
