"""The Python API: load a policy, evaluate patients.

    from leukorules import load_policy, PolicyError
    policy = load_policy()                      # the bundled leukoencephalopathy policy
    ev = policy.evaluate({"age": 54, "mri_pattern": "symmetric_white_matter"})
    fired = policy.decide(facts)                # fast path: fired recommend/note ids only

Facts passed to `evaluate`/`decide` are validated Python values (bool, int, float, str,
datetime.date, frozenset of str); absent or None is unknown. Raw JSON/YAML values go through
`leukorules.engine.facts.validate_facts` first (or `CompiledPolicy.validate`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from leukorules.diagnostics import Diagnostic, Severity, render_text
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.result.model import Evaluation
from leukorules.source import SourceFile

__all__ = ["CompiledPolicy", "Evaluation", "PolicyError", "load_policy"]

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
