"""The Python API: load a policy, evaluate patients.

    from leukorules import FactsError, load_policy
    policy = load_policy()                      # the bundled leukoencephalopathy policy
    ev = policy.evaluate({"leukoencephalopathy_type": "pml", "hiv_positive": True})
    fired = policy.decide(facts)                # fast path: fired recommend/note ids only
    facts = policy.validate(raw)                # ValidatedFacts: taken as they are, later

Every entry point that takes facts (`evaluate`, `decide`, `explain`) validates them against the
policy's declarations unless they are `ValidatedFacts` of this policy, and raises `FactsError`
(every diagnostic, each offending fact named) for facts that break them: a wrong name, type,
value or range, or a derived fact supplied, is never read as "no". Absent or None is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from leukorules.diagnostics import Diagnostic, Severity, render_text
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.facts import FactsError, ValidatedFacts
from leukorules.result.model import Evaluation
from leukorules.source import SourceFile

__all__ = [
    "CompiledPolicy",
    "Evaluation",
    "FactsError",
    "PolicyError",
    "ValidatedFacts",
    "load_policy",
]

PathLike = str | Path


class PolicyError(Exception):
    """A policy that has errors; `diagnostics` holds every one, `sources` the files read."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: Mapping[str, SourceFile]):
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources)
        errors = [d for d in self.diagnostics if d.severity is Severity.ERROR]
        first = ""
        if errors:
            where = f"{errors[0].span}: " if errors[0].span else ""
            first = f"; first: {where}{errors[0].message}"
        super().__init__(f"policy has {len(errors)} error(s){first}")

    def render(self, color: bool = False) -> str:
        """Every diagnostic as text, with code frames, as `leukorules check` prints them."""
        return render_text(self.diagnostics, self.sources, color=color)


def load_policy(path: PathLike | Sequence[PathLike] | None = None) -> CompiledPolicy:
    """Check and compile a policy (a file, a folder, or several); None = the bundled policy.

    Raises PolicyError when the policy has errors. Compilations are cached per policy sha256.
    """
    from leukorules.check import check_paths
    from leukorules.syntax.grammar import bundled_policy_dir

    if path is None:
        paths = [bundled_policy_dir()]
    elif isinstance(path, str | Path):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
    result = check_paths(paths)
    if result.policy is None:
        raise PolicyError(result.diagnostics, result.sources)
    return compile_policy(result.policy, result.sources)
