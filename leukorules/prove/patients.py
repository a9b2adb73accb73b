"""A solver's witness -> the patient a reader can check: few facts, plain values, reproducible.

Input: a solver whose assertions are satisfiable (the question, asked), the input variables and
the constants the policy compares each fact with. Output: a patient (known facts only) that
satisfies the assertions, chosen the same way whatever model the solver happened to find: each
fact in declaration order is left unknown if it can be, else given the first value that works
in a fixed order of preference (true before false, enum values as declared, sets as small as
possible, numbers and dates at the constants the policy writes and the points around and
between them, lowest first; the solver's own value only when none of those works).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from leukorules import model as m
from leukorules.prove.domains import FactVar, Term, patient
from leukorules.prove.solver import satisfiable, z3_module

# At most this many candidate values of one numeric fact are tried before the solver's own.
MAX_CANDIDATES = 24


# Fact kinds whose values are ordered: two facts of these kinds compared with each other make
# the space of patients more than the policy's constants and the points around them.
ORDERED_KINDS = ("integer", "number", "date", "string")


def condition_nodes(conditions: Iterable[m.Expr]) -> Iterator[m.Expr]:
    """Every node of these conditions, the `and`/`or`/`not` nodes and their leaves."""
    stack = list(conditions)
    while stack:
        node = stack.pop()
        yield node
        match node:
            case m.And(items=items) | m.Or(items=items):
                stack.extend(items)
            case m.Not(item=item):
                stack.append(item)


def constants_by_fact(exprs: Iterable[m.Expr]) -> dict[str, list[m.Value]]:
    """The literals each fact is compared with, in these conditions."""
    found: dict[str, list[m.Value]] = {}
    for node in condition_nodes(exprs):
        match node:
            case m.Compare(fact=name, value=value):
                found.setdefault(name, []).append(value)
            case m.Member(fact=name, values=values):
                found.setdefault(name, []).extend(values)
    return found


def claim_leaves(claim: m.Claim) -> Iterator[m.Expr | m.RuleOutcome]:
    """The leaves of a claim under its connectives: rule outcomes and conditions."""
    stack: list[m.Claim] = [claim]
    while stack:
        node = stack.pop()
        match node:
            case m.AllOf(items=items) | m.AnyOf(items=items):
                stack.extend(items)
            case m.Negation(item=item):
                stack.append(item)
            case m.Implies(premise=premise, conclusion=conclusion):
                stack.extend((premise, conclusion))
            case _:
                yield node


def claim_conditions(claim: m.Claim) -> Iterator[m.Expr]:
    """The conditions inside a claim."""
    for leaf in claim_leaves(claim):
        if not isinstance(leaf, m.RuleOutcome):
            yield leaf


def _numbers(var: FactVar, hints: Sequence[m.Value]) -> list[m.Value]:
    t = var.fact.type
    written = {float(h) for h in hints if isinstance(h, int | float) and not isinstance(h, bool)}
    anchors = set(written)
    anchors.update(float(b) for b in (t.minimum, t.maximum) if b is not None)
    anchors.add(0.0)
    ordered = sorted(anchors)
    points = set(ordered) | {a + d for a in ordered for d in (-1.0, 1.0)}
    if var.kind == "number":
        points.update((a + b) / 2 for a, b in pairwise(ordered))
    else:  # whole numbers on both sides of each constant
        points = {
            float(n)
            for a in ordered
            for n in (math.floor(a) - 1, math.floor(a), math.ceil(a), math.ceil(a) + 1)
        }
    inside = sorted(
        p
        for p in points
        if (t.minimum is None or p >= t.minimum) and (t.maximum is None or p <= t.maximum)
    )
    # The constants the conditions write first, then the points next to them (a patient just
    # past a threshold), then the bounds and zero: the most readable patients.

    def rank(p: float) -> int:
        if p in written:
            return 0
        return 1 if any(abs(p - w) <= 1 for w in written) else 2

    inside.sort(key=lambda p: (rank(p), p))
    chosen = inside[:MAX_CANDIDATES]
    return [int(p) if var.kind == "integer" else p for p in chosen]


def _dates(hints: Sequence[m.Value]) -> list[m.Value]:
    days = sorted({h for h in hints if isinstance(h, datetime.date)})
    one = datetime.timedelta(days=1)
    points: list[m.Value] = []
    for day in days:
        points.append(day)
    for day in days:
        for near in (day - one, day + one):
            if near not in points:
                points.append(near)
    return points[:MAX_CANDIDATES] or [datetime.date(2000, 1, 1)]


def candidates(var: FactVar, hints: Sequence[m.Value]) -> list[m.Value]:
    """The values tried for a known fact, most readable first (sets are handled apart)."""
    match var.kind:
        case "bool":
            return [True, False]
        case "enum":
            return list(var.fact.type.values)
        case "integer" | "number":
            return _numbers(var, hints)
        case "date":
            return _dates(hints)
        case "string":
            assert var.strings is not None
            return list(var.strings.strings)
    return []


class _Pinned:
    """The solver with the question asserted, values pinned one at a time."""

    def __init__(self, solver: Any) -> None:
        self.z3 = z3_module()
        self.solver = solver
        self.model = solver.model()

    def holds(self, term: Term) -> bool:
        return bool(self.z3.is_true(self.model.eval(term, model_completion=True)))

    def pin(self, term: Term) -> bool:
        """Assert `term` if it keeps the question satisfiable."""
        if not self.holds(term):
            if not satisfiable(self.solver, term):
                return False
            self.model = self.solver.model()
        self.solver.add(term)
        return True


def canonical_patient(
    solver: Any, variables: Mapping[str, FactVar], hints: Mapping[str, Sequence[m.Value]]
) -> dict[str, m.Value]:
    """The canonical patient of a satisfiable solver (see the module docstring). The solver's
    assertions are as they were afterwards."""
    z3 = z3_module()
    solver.push()
    try:
        if not satisfiable(solver):
            raise ValueError("no patient satisfies the question: there is no canonical one")
        pinned = _Pinned(solver)
        for var in variables.values():
            pinned.pin(z3.Not(var.known))
        for name, var in variables.items():
            if not pinned.holds(var.known):
                continue
            if var.kind == "set":
                for element in var.elements.values():
                    pinned.pin(z3.Not(element)) or pinned.pin(element)
                continue
            for value in candidates(var, hints.get(name, ())):
                if pinned.pin(var.equals(value)):
                    break
            else:  # none of the readable values works: the solver's own, pinned
                own = var.value_of(pinned.model)
                assert own is not None
                pinned.pin(var.equals(own))
        return patient(variables, pinned.model)
    finally:
        solver.pop()
