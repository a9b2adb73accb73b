"""What would change if one fact were different, or became known: `evaluate --what-if`.

Input: a compiled policy, a patient's validated facts and hypotheses `fact=value` (the value
written as in a YAML facts file: `true`, `61`, `not_responding`, `2026-01-31`, `[a, b]`).
Output: for each hypothesis on its own (the other facts as given), a `WhatIf`: the rules whose
outcome would change (before -> after, recommendations first), the derived facts whose value
would change, or the problems that make the hypothesis impossible (a value the fact cannot
take, facts that would contradict each other). Rendered as text or markdown after the
evaluation, or as JSON. Facts are health data: only the hypothetical fact is echoed.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import yaml

from leukorules import model as m
from leukorules.engine.compile import CompiledPolicy
from leukorules.engine.values import json_value


class HypothesisError(ValueError):
    """A `--what-if` that is not `fact=value`, or names no input fact of the policy."""


@dataclass(frozen=True)
class Hypothesis:
    fact: str
    value: object  # as written (YAML scalar or list)
    text: str  # the value as written on the command line


@dataclass(frozen=True)
class Change:
    rule: str
    kind: str  # recommend, note, caution, background, derive
    label: str  # the recommendation or the statement
    before: m.OutcomeName
    after: m.OutcomeName


@dataclass(frozen=True)
class WhatIf:
    hypothesis: Hypothesis
    before: m.Value | None  # the fact's value as given (None: unknown)
    changes: tuple[Change, ...] = ()
    derived: tuple[tuple[str, object, object], ...] = ()  # (fact, before, after)
    problems: tuple[str, ...] = ()  # the hypothesis is impossible: why


def parse_hypothesis(text: str, policy: m.Policy) -> Hypothesis:
    """`fact=value` -> a Hypothesis; HypothesisError for anything else."""
    name, sep, written = text.partition("=")
    name = name.strip()
    if not sep or not name or not written.strip():
        raise HypothesisError(
            f"{text!r}: write FACT=VALUE, e.g. plasma_exchange_response=not_responding"
        )
    fact = policy.facts.get(name)
    if fact is None or fact.derived:
        what = "a derived fact (the rules derive it)" if fact is not None else "not a fact"
        raise HypothesisError(f"`{name}` is {what} of policy {policy.id}")
    try:
        value = yaml.safe_load(written)
    except yaml.YAMLError:
        value = written.strip()
    return Hypothesis(name, value, written.strip())


def _raw(value: object) -> object:
    """A validated value as a facts file writes it (sets as lists), to validate again."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def _label(rule: m.Rule) -> str:
    match rule.conclusion:
        case m.Recommend(action=action, strength=strength):
            label = m.STRENGTHS.get(strength, strength)
            return action if strength == "unqualified" else f"{action}, {label}"
        case m.StateNote(text=text):
            return text or rule.statement
        case m.Derive(fact=fact, value=value):
            return f"{fact} = {m.value_text(value)}"


def what_if(
    compiled: CompiledPolicy, facts: Mapping[str, m.Value], hypothesis: Hypothesis
) -> WhatIf:
    """The consequences of one hypothesis (see the module docstring)."""
    policy = compiled.policy
    before_value = facts.get(hypothesis.fact)
    raw = {name: _raw(value) for name, value in facts.items()}
    raw[hypothesis.fact] = hypothesis.value
    changed, problems = compiled.check_facts(raw)
    if changed is None:
        return WhatIf(hypothesis, before_value, problems=tuple(d.message for d in problems))
    before, after = compiled.run(facts), compiled.run(changed)
    changes = [
        Change(rule.id, rule.kind, _label(rule), before.outcome(i), after.outcome(i))
        for i, rule in enumerate(policy.rules)
        if before.outcome(i) != after.outcome(i) and rule.kind != "derive"
    ]
    changes.sort(key=lambda c: c.kind != "recommend")  # recommendations first, stable
    derived = tuple(
        (f.name, before.derived.get(f.name), after.derived.get(f.name))
        for f in policy.derived_facts
        if before.derived.get(f.name) != after.derived.get(f.name)
    )
    return WhatIf(hypothesis, before_value, tuple(changes), derived)


_WOULD = {
    "fired": "would fire",
    "not_fired": "would not fire",
    "undetermined": "would be undetermined",
    "overridden": "would be overridden",
}
_NOW = {
    "fired": "now fired",
    "not_fired": "now not fired",
    "undetermined": "now undetermined",
    "overridden": "now overridden",
}


def _shown(value: object, fact: m.Fact | None) -> str:
    return m.value_text(value, fact)


def _heading(result: WhatIf, policy: m.Policy) -> str:
    fact = policy.facts.get(result.hypothesis.fact)
    now = _shown(result.before, fact)
    return f"What if {result.hypothesis.fact} were {result.hypothesis.text} (now {now})"


def _lines(result: WhatIf, policy: m.Policy, bullet: str) -> list[str]:
    if result.problems:
        return [f"{bullet}impossible: {p}" for p in result.problems]
    if not result.changes and not result.derived:
        return [f"{bullet}nothing would change"]
    lines = []
    for change in result.changes:
        what = "recommendation" if change.kind == "recommend" else change.kind
        lines.append(
            f"{bullet}{change.rule} {_WOULD[change.after]}, {_NOW[change.before]}: "
            f"{what} {change.label}"
        )
    for name, old, new in result.derived:
        fact = policy.facts.get(name)
        lines.append(f"{bullet}{name} would be {_shown(new, fact)}, now {_shown(old, fact)}")
    return lines


def render_text(results: Sequence[WhatIf], policy: m.Policy) -> str:
    out: list[str] = []
    for result in results:
        out += ["", _heading(result, policy) + ":", *_lines(result, policy, "  ")]
    return "\n".join(out) + "\n"


def render_markdown(results: Sequence[WhatIf], policy: m.Policy) -> str:
    out: list[str] = []
    for result in results:
        out += ["", f"## {_heading(result, policy)}", "", *_lines(result, policy, "- ")]
    return "\n".join(out) + "\n"


def to_json(results: Sequence[WhatIf]) -> list[dict[str, object]]:
    def plain(value: object) -> object:
        if isinstance(value, datetime.date | frozenset):
            return json_value(value)
        return value

    return [
        {
            "fact": r.hypothesis.fact,
            "value": plain(r.hypothesis.value),
            "before": plain(r.before),
            "changes": [
                {"rule": c.rule, "kind": c.kind, "before": c.before, "after": c.after}
                for c in r.changes
            ],
            "derived": [
                {"fact": n, "before": plain(a), "after": plain(b)} for n, a, b in r.derived
            ],
            "problems": list(r.problems),
        }
        for r in results
    ]


def wrap_json(evaluation_json: str, results: Sequence[WhatIf]) -> str:
    """The evaluation's JSON and the hypotheses, as one document."""
    document = {"evaluation": json.loads(evaluation_json), "what_if": to_json(results)}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
