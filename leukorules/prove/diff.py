"""Two versions of a policy, compared rule by rule: what an author changed.

Input: two checked policies, OLD and NEW. Output: `PolicyDiff`: the rules added, removed and
changed (each change named: statement reworded, condition changed, evidence changed, strength
changed, recommendation reworded, alternatives changed, conclusion changed, sequencing
(`after`), precedence (`overrides`), line of therapy, moved to another section), with the old
and new text of what changed; the same for gaps and constraints; and the input facts added,
removed or declared differently. Pure comparison of the models: layout and comments never
count, and `leukorules.prove.semantic_diff` says which patients the changes affect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from leukorules import model as m
from leukorules.syntax.formatter import expr_text, quote
from leukorules.syntax.render import condition

T = TypeVar("T")


@dataclass(frozen=True)
class Change:
    """One named change of one element, with its old and new text ("" where there is none)."""

    what: str
    old: str = ""
    new: str = ""


@dataclass(frozen=True)
class Edit:
    """An element (`kind`: rule, gap, constraint, fact) `added`, `removed` or `changed`."""

    kind: str
    id: str
    status: str
    changes: tuple[Change, ...] = ()


@dataclass
class PolicyDiff:
    old: m.Policy
    new: m.Policy
    edits: list[Edit] = field(default_factory=list)

    def of(self, kind: str) -> list[Edit]:
        return [e for e in self.edits if e.kind == kind]


def _text(expr: m.Expr, facts: Mapping[str, m.Fact]) -> str:
    return expr_text(condition(expr, facts))


def _list(items: Sequence[str]) -> str:
    return ", ".join(items) if items else "(none)"


def _conclusion_changes(old: m.Conclusion, new: m.Conclusion) -> list[Change]:
    if isinstance(old, m.Recommend) and isinstance(new, m.Recommend):
        found: list[Change] = []
        if old.action != new.action:
            found.append(Change("recommendation reworded", quote(old.action), quote(new.action)))
        if old.strength != new.strength:
            found.append(Change("strength changed", old.strength, new.strength))
        if old.alternatives != new.alternatives:
            before = _list([quote(a) for a in old.alternatives])
            after = _list([quote(a) for a in new.alternatives])
            found.append(Change("alternatives changed", before, after))
        return found
    if old == new:
        return []
    return [Change("conclusion changed", _conclusion(old), _conclusion(new))]


def _conclusion(conclusion: m.Conclusion) -> str:
    match conclusion:
        case m.Recommend(action=action):
            return f"recommend {quote(action)}"
        case m.StateNote(kind=kind, text=text):
            return kind + (f" {quote(text)}" if text is not None else "")
        case m.Derive(fact=fact, value=value):
            return f"derive {fact} = {m.value_text(value)}"


def _rule_changes(old: m.Rule, new: m.Rule, before: m.Policy, after: m.Policy) -> list[Change]:
    found: list[Change] = []
    if old.statement != new.statement:
        found.append(Change("statement reworded", quote(old.statement), quote(new.statement)))
    if old.when != new.when:
        found.append(
            Change("condition changed", _text(old.when, before.facts), _text(new.when, after.facts))
        )
    if old.evidence != new.evidence:
        found.append(Change("evidence changed", _list(old.evidence), _list(new.evidence)))
    found.extend(_conclusion_changes(old.conclusion, new.conclusion))
    if old.after != new.after:
        found.append(Change("sequencing changed (after)", _list(old.after), _list(new.after)))
    if old.overrides != new.overrides:
        found.append(
            Change("precedence changed (overrides)", _list(old.overrides), _list(new.overrides))
        )
    if old.line != new.line:
        found.append(Change("line of therapy changed", str(old.line or "-"), str(new.line or "-")))
    if old.section != new.section:
        found.append(Change("moved", " / ".join(old.section), " / ".join(new.section)))
    return found


def _compare(
    kind: str,
    old: Mapping[str, T],
    new: Mapping[str, T],
    changes: Callable[[T, T], list[Change]],
    shown: Callable[[T, bool], str] | None = None,
) -> list[Edit]:
    """Added, removed and changed elements; `shown(element, in_old)` writes what an added or
    removed one says."""

    def summary(element: T, removed: bool) -> tuple[Change, ...]:
        if shown is None:
            return ()
        text = shown(element, removed)
        return (Change("declared", text, "") if removed else Change("declared", "", text),)

    edits: list[Edit] = []
    for key in old:
        if key not in new:
            edits.append(Edit(kind, key, "removed", summary(old[key], True)))
        else:
            found = changes(old[key], new[key])
            if found:
                edits.append(Edit(kind, key, "changed", tuple(found)))
    edits.extend(
        Edit(kind, key, "added", summary(new[key], False)) for key in new if key not in old
    )
    return edits


def policy_diff(old: m.Policy, new: m.Policy) -> PolicyDiff:
    """The element-by-element differences between two versions (see the module docstring)."""
    diff = PolicyDiff(old, new)
    diff.edits += _compare(
        "fact",
        {f.name: f for f in old.input_facts},
        {f.name: f for f in new.input_facts},
        lambda a, b: (
            [] if a.type == b.type else [Change("declared", a.type.describe(), b.type.describe())]
        ),
    )

    def facts(in_old: bool) -> Mapping[str, m.Fact]:
        return old.facts if in_old else new.facts

    diff.edits += _compare(
        "rule",
        {r.id: r for r in old.rules},
        {r.id: r for r in new.rules},
        lambda a, b: _rule_changes(a, b, old, new),
        lambda r, in_old: f"when {_text(r.when, facts(in_old))}: {_conclusion(r.conclusion)}",
    )
    diff.edits += _compare(
        "gap",
        {g.id: g for g in old.gaps},
        {g.id: g for g in new.gaps},
        lambda a, b: (
            []
            if a.when == b.when
            else [Change("condition changed", _text(a.when, old.facts), _text(b.when, new.facts))]
        ),
    )

    def constraint_changes(a: m.Constraint, b: m.Constraint) -> list[Change]:
        found: list[Change] = []
        if a.when != b.when:
            found.append(
                Change("condition changed", _text(a.when, old.facts), _text(b.when, new.facts))
            )
        if a.require != b.require:
            found.append(
                Change(
                    "requirement changed", _text(a.require, old.facts), _text(b.require, new.facts)
                )
            )
        return found

    diff.edits += _compare(
        "constraint",
        {c.id: c for c in old.constraints},
        {c.id: c for c in new.constraints},
        constraint_changes,
        lambda c, in_old: (
            f"when {_text(c.when, facts(in_old))} require {_text(c.require, facts(in_old))}"
        ),
    )
    return diff
