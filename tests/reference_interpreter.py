"""A deliberately naive interpreter of the checked model, written only for differential tests.

It shares no code with `leukorules.engine` or `leukorules.logic`: truth values are 0 (false),
1 (unknown), 2 (true), so Kleene `and` is `min`, `or` is `max` and `not` is `2 - x`; rules and
derived facts are computed by plain memoised recursion in whatever order they are asked for,
with no topological sort, no code generation and no short-circuits. Slow and obvious on purpose.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from leukorules import model as m

F, U, T = 0, 1, 2

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _bit(flag: bool) -> int:
    return T if flag else F


def condition(expr: m.Expr, value: Callable[[str], object]) -> int:
    """0/1/2 truth of a condition; `value(name)` is None when the fact is unknown."""
    if isinstance(expr, m.Const):
        return _bit(expr.value)
    if isinstance(expr, m.Compare):
        v = value(expr.fact)
        return U if v is None else _bit(_OPS[expr.op](v, expr.value))
    if isinstance(expr, m.CompareFacts):
        a, b = value(expr.left), value(expr.right)
        return U if a is None or b is None else _bit(_OPS[expr.op](a, b))
    if isinstance(expr, m.Member):
        v = value(expr.fact)
        if v is None:
            return U
        inside = any(v == candidate for candidate in expr.values)
        return _bit(not inside if expr.negated else inside)
    if isinstance(expr, m.Contains):
        v = value(expr.fact)
        return U if v is None else _bit(expr.value in v)  # type: ignore[operator]
    if isinstance(expr, m.Known):
        present = value(expr.fact) is not None
        return _bit(present if expr.known else not present)
    if isinstance(expr, m.And):
        return min(condition(item, value) for item in expr.items)
    if isinstance(expr, m.Or):
        return max(condition(item, value) for item in expr.items)
    if isinstance(expr, m.Not):
        return 2 - condition(expr.item, value)
    raise TypeError(expr)


@dataclass
class Reference:
    outcomes: dict[str, str]
    derived: dict[str, object]
    gaps: list[str]
    decided: frozenset[str]


def interpret(policy: m.Policy, facts: Mapping[str, object]) -> Reference:
    rules = {rule.id: rule for rule in policy.rules}
    effective_memo: dict[str, int] = {}
    derived_memo: dict[str, object] = {}

    def value(name: str) -> object:
        fact = policy.facts.get(name)
        if fact is not None and fact.derived:
            if name not in derived_memo:
                derived_memo[name] = derived_value(name)
            return derived_memo[name]
        return facts.get(name)

    def derived_value(name: str) -> object:
        derivers = [
            r
            for r in policy.rules
            if isinstance(r.conclusion, m.Derive) and r.conclusion.fact == name
        ]
        fired_values = []
        for r in derivers:
            assert isinstance(r.conclusion, m.Derive)
            if effective(r.id) == T and r.conclusion.value not in fired_values:
                fired_values.append(r.conclusion.value)
        if len(fired_values) != 1:
            return None
        (chosen,) = fired_values
        for r in derivers:
            assert isinstance(r.conclusion, m.Derive)
            if r.conclusion.value != chosen and effective(r.id) != F:
                return None
        return chosen

    def base(rule_id: str) -> int:
        rule = rules[rule_id]
        return min([condition(rule.when, value), *(effective(p) for p in rule.after)])

    def overriders(rule_id: str) -> list[str]:
        return [r.id for r in policy.rules if rule_id in r.overrides]

    def effective(rule_id: str) -> int:
        if rule_id not in effective_memo:
            winner = max((effective(o) for o in overriders(rule_id)), default=F)
            effective_memo[rule_id] = min(base(rule_id), 2 - winner)
        return effective_memo[rule_id]

    outcomes: dict[str, str] = {}
    for rule in policy.rules:
        truth = effective(rule.id)
        if truth == T:
            outcomes[rule.id] = "fired"
        elif truth == U:
            outcomes[rule.id] = "undetermined"
        elif base(rule.id) == T and any(effective(o) == T for o in overriders(rule.id)):
            outcomes[rule.id] = "overridden"
        else:
            outcomes[rule.id] = "not_fired"
    derived = {}
    for fact in policy.derived_facts:
        found = value(fact.name)
        if found is not None:
            derived[fact.name] = found
    gaps = [gap.id for gap in policy.gaps if condition(gap.when, value) == T]
    decided = frozenset(
        rule.id
        for rule in policy.rules
        if outcomes[rule.id] == "fired" and not isinstance(rule.conclusion, m.Derive)
    )
    return Reference(outcomes, derived, gaps, decided)
