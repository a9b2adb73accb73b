"""Kleene three-valued logic over model conditions: the semantics, in one small place.

`True`, `False` and `None` (unknown). A comparison that reads an unknown fact is unknown;
`and` is false if any operand is false, else unknown if any is unknown; `or` dually; `not`
maps unknown to unknown. The checker uses this directly; the compiled evaluator implements the
same tables and is tested against it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from leukorules import model as m

Truth = bool | None

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def kleene_and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def kleene_or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def kleene_not(value: Truth) -> Truth:
    return None if value is None else not value


def leaf_truth(expr: m.Expr, facts: Mapping[str, object]) -> Truth:
    """The truth of a condition that is not `and`/`or`/`not`: a test of one or two facts."""
    match expr:
        case m.Const(value=value):
            return value
        case m.Compare(fact=name, op=op, value=value):
            actual = facts.get(name)
            return None if actual is None else COMPARATORS[op](actual, value)
        case m.CompareFacts(left=left, op=op, right=right):
            a, b = facts.get(left), facts.get(right)
            return None if a is None or b is None else COMPARATORS[op](a, b)
        case m.Member(fact=name, values=values, negated=negated):
            actual = facts.get(name)
            return None if actual is None else (actual in values) != negated
        case m.Contains(fact=name, value=value):
            actual = facts.get(name)
            if actual is None:
                return None
            assert isinstance(actual, frozenset | set)
            return value in actual
        case m.Known(fact=name, known=known):
            return (facts.get(name) is not None) == known
    raise TypeError(f"not a leaf condition: {expr!r}")


def evaluate(expr: m.Expr, facts: Mapping[str, object]) -> Truth:
    """The truth of `expr` where `facts` maps names to values; absent or None is unknown."""
    match expr:
        case m.And(items=items):
            conjunction: Truth = True
            for item in items:
                truth = evaluate(item, facts)
                if truth is False:
                    return False
                if truth is None:
                    conjunction = None
            return conjunction
        case m.Or(items=items):
            disjunction: Truth = False
            for item in items:
                truth = evaluate(item, facts)
                if truth is True:
                    return True
                if truth is None:
                    disjunction = None
            return disjunction
        case m.Not(item=item):
            return kleene_not(evaluate(item, facts))
    return leaf_truth(expr, facts)
