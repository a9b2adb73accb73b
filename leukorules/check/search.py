"""The bounded search for a patient that makes a condition true.

Input: a condition (`model.Expr`) and the facts it reads (`model.Fact`). Output: an assignment
of values to facts (unknown facts left out) for which the condition is true under Kleene logic,
or None when there is none, or `SearchTooLarge` when the question needs more than the budget of
candidate assignments. Each fact ranges over a small representative domain (every value of a
bool or enum fact, the subsets of the elements a condition tests for a set, and for numbers and
dates the constants the condition compares against, the declared bounds and the points between
and around them), unknown included, so the answer is exact for conditions that compare facts
only with constants. The search is pruned by Kleene monotonicity: once a partial assignment
makes a condition false, no completion makes it true. A patient it finds is real.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from itertools import combinations, pairwise

from leukorules import model as m
from leukorules.logic import evaluate

# Without the solver, the search gives up (and the checker says so: LR413) past this many
# candidate assignments for one question.
SEARCH_BUDGET = 200_000
# With the solver, the search is a first look: past this many candidates the solver decides,
# exactly and far sooner than the search would (a give-up of the full budget costs seconds).
FIRST_LOOK_BUDGET = 500
# A quick look for a patient for whom a rule fires, before the solver is asked.
QUICK_BUDGET = 300


class SearchTooLarge(Exception):
    pass


def _constants(expr: m.Expr, name: str) -> list[object]:
    found: list[object] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        match node:
            case m.Compare(fact=fact, value=value) if fact == name:
                found.append(value)
            case m.Member(fact=fact, values=values) if fact == name:
                found.extend(values)
            case m.Contains(fact=fact, value=value) if fact == name:
                found.append(value)
            case m.And(items=items) | m.Or(items=items):
                stack.extend(items)
            case m.Not(item=item):
                stack.append(item)
    return found


def _known_tested(expr: m.Expr) -> set[str]:
    """Facts that `is known` / `is unknown` tests read."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        match node:
            case m.Known(fact=fact):
                found.add(fact)
            case m.And(items=items) | m.Or(items=items):
                stack.extend(items)
            case m.Not(item=item):
                stack.append(item)
    return found


def has_fact_comparison(expr: m.Expr) -> bool:
    stack = [expr]
    while stack:
        node = stack.pop()
        match node:
            case m.CompareFacts():
                return True
            case m.And(items=items) | m.Or(items=items):
                stack.extend(items)
            case m.Not(item=item):
                stack.append(item)
    return False


def _domain(fact: m.Fact, expr: m.Expr) -> list[object]:
    """Representative values of a fact for deciding `expr`, unknown (None) first."""
    kind = fact.type.kind
    if kind == "bool":
        return [None, True, False]
    if kind == "enum":
        return [None, *fact.type.values]
    if kind == "set":
        tested = sorted({str(c) for c in _constants(expr, fact.name)})
        subsets: list[object] = [None]
        for size in range(len(tested) + 1):
            subsets.extend(frozenset(c) for c in combinations(tested, size))
        return subsets
    constants = _constants(expr, fact.name)
    if kind == "string":
        return [None, *dict.fromkeys(str(c) for c in constants), "\x00another value"]
    if kind == "date":
        days = sorted({c for c in constants if isinstance(c, datetime.date)})
        one = datetime.timedelta(days=1)
        points = {d + delta for d in days for delta in (-one, datetime.timedelta(0), one)}
        return [None, *sorted(points)] if points else [None, datetime.date(2000, 1, 1)]
    low_bound, high_bound = fact.type.minimum, fact.type.maximum
    # The truth of `x op c` over every constant c only changes at the constants, so the
    # constants, the declared bounds, a point between each neighbouring pair and a point past
    # each end decide every such test over the reals.
    anchors = {float(c) for c in constants if isinstance(c, int | float)}
    anchors.update(float(b) for b in (low_bound, high_bound) if b is not None)
    if not anchors:
        anchors.add(0.0)
    ordered = sorted(anchors)
    points_f = set(ordered) | {ordered[0] - 1, ordered[-1] + 1}
    points_f.update((low + high) / 2 for low, high in pairwise(ordered))
    if kind == "integer":
        # The smallest whole number above each anchor is in every gap that holds one.
        points_f = {
            float(n)
            for c in ordered
            for n in (math.floor(c) - 1, math.floor(c), math.floor(c) + 1, math.ceil(c) + 1)
        }
    chosen = sorted(
        p
        for p in points_f
        if (low_bound is None or p >= low_bound) and (high_bound is None or p <= high_bound)
    )
    if kind == "integer":
        return [None, *(int(p) for p in chosen)]
    return [None, *chosen]


def satisfying_assignment(
    expr: m.Expr, facts: Mapping[str, m.Fact], budget_steps: int = SEARCH_BUDGET
) -> dict[str, object] | None:
    """An assignment (fact -> value, unknown omitted) that makes `expr` true, or None.

    Raises SearchTooLarge when the question cannot be settled within `budget_steps`.
    """
    names = list(dict.fromkeys(n for n in m.expr_facts(expr) if n in facts))
    domains = [_domain(facts[n], expr) for n in names]
    budget = [budget_steps]
    assignment: dict[str, object] = {}
    # `x is known` / `x is unknown` are definite even while x is still undecided (absent), so
    # "false now" only proves "false for every completion" once those facts are decided.
    tested = _known_tested(expr)
    settled = max((i + 1 for i, n in enumerate(names) if n in tested), default=0)

    def search(index: int) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            raise SearchTooLarge
        truth = evaluate(expr, assignment)
        if truth is True:
            return True
        if (truth is False and index >= settled) or index == len(names):
            return False
        name = names[index]
        for value in domains[index]:
            if value is None:
                continue  # unknown is what an unassigned fact already is
            assignment[name] = value
            if search(index + 1):
                return True
            del assignment[name]
        return search(index + 1)

    return dict(assignment) if search(0) else None
