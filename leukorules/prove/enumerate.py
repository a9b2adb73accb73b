"""Every patient of a small policy, one at a time: proofs by exhaustion, without a solver.

Input: a policy (and the claims to be decided). Output: `PatientSpace`: for each input fact a
short list of representative values (unknown included) such that every condition of the policy
and the claims has, for any patient, the same truth for a representative patient: each value of
a bool or enum fact, each subset of a set's elements, for numbers and dates the constants the
conditions write, the points between and around them and the declared bounds, for strings the
literals and one other. `exact` is False when a condition compares two numeric, date or string
facts (representatives cannot stand for every pair). `patients()` yields every combination.

The tests hold the solver to this enumeration on small generated policies; `leukorules prove`
falls back to it when the solver is not installed and the space is small.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Iterator, Sequence
from itertools import combinations, pairwise, product

from leukorules import model as m
from leukorules.prove.patients import ORDERED_KINDS, condition_nodes, constants_by_fact

_OTHER_STRING = "another value"


def _numbers(fact: m.Fact, constants: Sequence[m.Value]) -> list[m.Value]:
    t = fact.type
    anchors = {
        float(c) for c in constants if isinstance(c, int | float) and not isinstance(c, bool)
    }
    anchors.update(float(b) for b in (t.minimum, t.maximum) if b is not None)
    if not anchors:
        anchors.add(0.0)
    ordered = sorted(anchors)
    if fact.type.kind == "integer":
        points = {
            float(n)
            for a in ordered
            for n in (math.floor(a) - 1, math.floor(a), math.ceil(a), math.ceil(a) + 1)
        }
    else:
        points = set(ordered) | {ordered[0] - 1, ordered[-1] + 1}
        points.update((a + b) / 2 for a, b in pairwise(ordered))
    inside = sorted(
        p
        for p in points
        if (t.minimum is None or p >= t.minimum) and (t.maximum is None or p <= t.maximum)
    )
    return [int(p) for p in inside] if fact.type.kind == "integer" else list(inside)


def representatives(fact: m.Fact, constants: Sequence[m.Value]) -> list[m.Value]:
    """The known values tried for a fact (unknown is tried besides)."""
    t = fact.type
    match t.kind:
        case "bool":
            return [True, False]
        case "enum":
            return list(t.values)
        case "set":
            return [
                frozenset(chosen)
                for size in range(len(t.values) + 1)
                for chosen in combinations(t.values, size)
            ]
        case "integer" | "number":
            return _numbers(fact, constants)
        case "date":
            days = sorted({c for c in constants if isinstance(c, datetime.date)})
            one = datetime.timedelta(days=1)
            points = sorted({d + k * one for d in days for k in (-1, 0, 1)})
            return list(points) or [datetime.date(2000, 1, 1)]
    literals = sorted({c for c in constants if isinstance(c, str)})
    return [*literals, _OTHER_STRING]


class PatientSpace:
    """The representative patients of a policy (see the module docstring)."""

    def __init__(self, policy: m.Policy, conditions: Iterable[m.Expr]) -> None:
        conditions = list(conditions)
        constants = constants_by_fact(conditions)
        self.facts = list(policy.input_facts)
        self.domains: list[list[m.Value | None]] = [
            [None, *representatives(f, constants.get(f.name, ()))] for f in self.facts
        ]
        ordered = {f.name for f in policy.facts.values() if f.type.kind in ORDERED_KINDS}
        self.exact = not any(
            isinstance(node, m.CompareFacts) and {node.left, node.right} & ordered
            for node in condition_nodes(conditions)
        )

    @property
    def size(self) -> int:
        return math.prod(len(d) for d in self.domains)

    def patients(self) -> Iterator[dict[str, m.Value]]:
        names = [f.name for f in self.facts]
        for values in product(*self.domains):
            yield {n: v for n, v in zip(names, values, strict=True) if v is not None}
