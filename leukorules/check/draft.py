"""The policy as the resolver builds it, before the logic checks and before it is frozen.

Input: filled in by `leukorules.check.resolve` while it reads the syntax tree. Output: what
`leukorules.check.analysis` checks and `leukorules.check.check_paths` freezes into a `Policy`:
the resolved header, evidence, facts, sections, rules, gaps and constraints, the spans of every
reference (for "unused" and "undeclared" diagnostics), and the rules left out because they had
errors.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from leukorules import model as m
from leukorules.source import Span
from leukorules.syntax import ast
from leukorules.terminology import Binding, ValueSet


@dataclass
class Draft:
    """What the resolver built; `analysis` checks it and `check` freezes it into a Policy."""

    header: ast.PolicyBlock | None = None
    policy_id: str = ""
    title: str = ""
    version: str = ""
    source: str | None = None
    effective: datetime.date | None = None
    evidence: dict[str, m.Evidence] = field(default_factory=dict)
    facts: dict[str, m.Fact] = field(default_factory=dict)
    sections: list[m.Section] = field(default_factory=list)
    rules: list[m.Rule] = field(default_factory=list)
    gaps: list[m.Gap] = field(default_factory=list)
    constraints: list[m.Constraint] = field(default_factory=list)
    properties: list[m.Property] = field(default_factory=list)
    value_sets: dict[str, ValueSet] = field(default_factory=dict)
    bindings: list[Binding] = field(default_factory=list)
    # spans of the references, for "unused" and "undeclared" diagnostics
    evidence_uses: dict[str, list[Span]] = field(default_factory=dict)
    fact_uses: dict[str, list[Span]] = field(default_factory=dict)
    rule_ids: dict[str, Span] = field(default_factory=dict)
    # rules that could not be fully resolved; analysis skips logic checks involving them
    broken_rules: set[str] = field(default_factory=set)
