"""The checker: policy files -> a checked `Policy` plus every diagnostic.

Takes: policy files or folders (or text). Gives: `CheckResult`, the `model.Policy` when no error
was found (warnings and notes never block it) and every diagnostic, sorted by position.
Stages: `loader` (files, includes, parsing) -> `resolve` with `declarations`, `conditions` and
`rules` (names, fields, types, into a `draft`), `properties` and `bindings` (terminology
bindings) -> `analysis` (cycles, conditions that can never
hold, conflicts, unused declarations).
Must never import: `leukorules.engine`, `leukorules.result`, `leukorules.report`,
`leukorules.cohort`, `leukorules.cli`, `leukorules.syntax.lark_adapter`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from leukorules import model as m
from leukorules.check.analysis import analyse
from leukorules.check.loader import Loaded, load
from leukorules.check.resolve import Resolver, combined_sha256
from leukorules.diagnostics import Diagnostic, has_errors, sorted_diagnostics
from leukorules.source import SourceFile
from leukorules.syntax.parser import gc_paused, parse


@dataclass
class CheckResult:
    policy: m.Policy | None
    diagnostics: list[Diagnostic]
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.policy is not None


def check_paths(paths: list[Path]) -> CheckResult:
    return _check_loaded(load(paths))


def check_text(text: str, path: str = "<memory>.rules") -> CheckResult:
    """Check a single policy held in memory (includes are not followed)."""
    source = SourceFile.from_text(path, text)
    module, diagnostics = parse(source)
    loaded = Loaded(sources={path: source}, diagnostics=list(diagnostics))
    if module is None:
        loaded.syntax_ok = False
    else:
        loaded.modules.append(module)
        loaded.items.extend(module.items)
    return _check_loaded(loaded)


def _relative(sources: list[SourceFile]) -> list[tuple[str, SourceFile]]:
    """Source paths relative to the folder that holds them all.

    Results and audit records must not depend on the directory a command was run from, and
    replay recreates the files under these paths, so includes resolve the same way.
    """
    resolved = [Path(s.path).resolve() for s in sources]
    if not resolved or any(not p.exists() for p in resolved):
        return [(s.path, s) for s in sources]
    root = Path(os.path.commonpath([p.parent for p in resolved]))
    return [(p.relative_to(root).as_posix(), s) for p, s in zip(resolved, sources, strict=True)]


def _check_loaded(loaded: Loaded) -> CheckResult:
    diagnostics = list(loaded.diagnostics)
    if not loaded.syntax_ok or not loaded.items:
        return CheckResult(None, sorted_diagnostics(diagnostics), loaded.sources)
    with gc_paused():
        resolver = Resolver()
        draft = resolver.resolve(loaded.items)
        diagnostics.extend(resolver.diagnostics)
        diagnostics.extend(analyse(draft))
    diagnostics = sorted_diagnostics(diagnostics)
    if has_errors(diagnostics):
        return CheckResult(None, diagnostics, loaded.sources)
    sources = list(loaded.sources.values())
    policy = m.Policy(
        id=draft.policy_id,
        title=draft.title,
        version=draft.version,
        source=draft.source,
        effective=draft.effective,
        evidence=dict(draft.evidence),
        facts=dict(draft.facts),
        sections=tuple(draft.sections),
        rules=tuple(draft.rules),
        gaps=tuple(draft.gaps),
        constraints=tuple(draft.constraints),
        properties=tuple(draft.properties),
        value_sets=dict(draft.value_sets),
        bindings=tuple(draft.bindings),
        sources=tuple(m.SourceInfo(path, s.sha256) for path, s in _relative(sources)),
        sha256=combined_sha256(sources),
        span=draft.header.id.span if draft.header else None,
    )
    return CheckResult(policy, diagnostics, loaded.sources)
