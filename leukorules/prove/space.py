"""The patient space cut into classes: what the semantic diff counts and describes.

Input: the input facts of one or two policies (their union declarations), their solver
variables and the constants their conditions compare each fact with. Output: for each fact a
`FactClasses`: unknown, then each value of a bool or enum fact, each subset of a set's elements,
each literal of a string fact and "any other string", and for integer, number and date facts the
constants (and declared bounds) and the open intervals between them (empty ones left out). Every
condition that compares a fact with a constant has one truth across a class, so a set of
patients that the policies' conditions define is a union of combinations of classes: it is
counted as such, and `describe` writes a set of classes back as a condition whose truth
(three-valued, as any condition) is true exactly for the patients in them.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from leukorules import model as m
from leukorules.prove.domains import FIRST_DAY, LAST_DAY, FactVar, Term, number_term
from leukorules.prove.solver import z3_module

MAX_SET_ELEMENTS = 10  # a set fact of more elements is not cut into its 2^n subsets


@dataclass(frozen=True, slots=True)
class FactClass:
    """One class of a fact's values: `unknown`, one `value`, `other` strings, or an
    `interval` between `low` and `high` (None: unbounded), never containing its ends. A point
    of a number line is a `value` whose `low` and `high` are the point."""

    kind: str  # "unknown", "value", "other", "interval"
    value: m.Value | None = None
    low: float | None = None
    high: float | None = None


class FactClasses:
    """The classes of one fact (see the module docstring)."""

    def __init__(self, var: FactVar, constants: Sequence[m.Value]) -> None:
        self.var = var
        self.fact = var.fact
        self.classes: list[FactClass] = [FactClass("unknown")]
        t = self.fact.type
        match t.kind:
            case "bool":
                self.classes += [FactClass("value", True), FactClass("value", False)]
            case "enum":
                self.classes += [FactClass("value", v) for v in t.values]
            case "set":
                elements = t.values
                self.exact = len(elements) <= MAX_SET_ELEMENTS
                if self.exact:
                    self.classes += [
                        FactClass("value", frozenset(chosen))
                        for size in range(len(elements) + 1)
                        for chosen in combinations(elements, size)
                    ]
            case "string":
                literals = sorted({c for c in constants if isinstance(c, str)})
                self.classes += [FactClass("value", v) for v in literals]
                self.classes.append(FactClass("other"))
            case _:
                self.classes += _line_classes(self.fact, constants)
        if t.kind != "set":
            self.exact = True

    def __len__(self) -> int:
        return len(self.classes)

    # --- classes as solver terms

    def term(self, index: int) -> Term:
        """The patient's value of this fact is in class `index`."""
        z3 = z3_module()
        var = self.var
        found = self.classes[index]
        if found.kind == "unknown":
            return z3.Not(var.known)
        if found.kind == "value":
            assert found.value is not None
            return var.equals(found.value)
        if found.kind == "other":
            literals = self._values(self.classes)
            return z3.And(var.known, z3.Not(var.member(literals))) if literals else var.known
        parts = [var.known]
        number = _number(var)
        if found.low is not None:
            parts.append(number > _constant(var, found.low))
        if found.high is not None:
            parts.append(number < _constant(var, found.high))
        return z3.And(parts)

    def representative(self, index: int) -> m.Value | None:
        """One value of a class (None for unknown): every condition treats it as the class."""
        found = self.classes[index]
        kind = self.fact.type.kind
        if found.kind == "unknown":
            return None
        if found.kind == "value":
            return found.value
        if found.kind == "other":
            taken = {c.value for c in self.classes}
            text = "another value"
            while text in taken:
                text += "'"
            return text
        low, high = found.low, found.high
        if kind == "number":
            if low is not None and high is not None:
                point = (low + high) / 2
            else:
                point = low + 1 if low is not None else (high - 1 if high is not None else 0.0)
            return point
        if low is not None:
            whole = math.floor(low) + 1
        else:
            whole = math.ceil(high) - 1 if high is not None else 0
        return _literal(float(whole), kind)

    def within(self, declared: m.Fact) -> frozenset[int]:
        """The classes a policy's declaration of this fact admits (unknown always)."""
        t = declared.type
        found = {0}
        for index, cls in enumerate(self.classes[1:], 1):
            if cls.kind == "value" and t.kind in ("enum", "set"):
                values = cls.value if isinstance(cls.value, frozenset) else {cls.value}
                if not set(values) <= set(t.values):
                    continue
            if t.kind in ("integer", "number") and not _inside(cls, t.minimum, t.maximum):
                continue
            found.add(index)
        return frozenset(found)

    def index_of(self, value: m.Value | None) -> int:
        """The class a value (None: unknown) is in."""
        if value is None:
            return 0
        for index, cls in enumerate(self.classes[1:], 1):
            if cls.kind == "value" and cls.value == value:
                return index
            if cls.kind == "other" and not any(
                c.kind == "value" and c.value == value for c in self.classes
            ):
                return index
            if cls.kind == "interval":
                number = _plain(value)
                above = cls.low is None or number > cls.low
                if above and (cls.high is None or number < cls.high):
                    return index
        raise ValueError(f"{value!r} is in no class of {self.fact.name}")

    # --- classes as conditions

    def describe(self, indices: frozenset[int], admissible: frozenset[int] | None = None) -> m.Expr:
        """A condition true exactly for the patients whose value is in these classes, among
        those whose value is in `admissible` (default: every class)."""
        name = self.fact.name
        space = frozenset(range(len(self.classes))) if admissible is None else admissible
        indices = indices & space
        if indices == space:
            return m.Const(True)
        known = sorted(i for i in indices if i != 0)
        parts: list[m.Expr] = [m.Known(name, False)] if 0 in indices else []
        if set(known) == space - {0}:
            return m.Known(name, True)
        if known:
            parts.append(self._describe_known(known, sorted(space - {0})))
        if not parts:
            return m.Const(False)
        return parts[0] if len(parts) == 1 else m.Or(tuple(parts))

    def _describe_known(self, known: list[int], space: list[int]) -> m.Expr:
        name, kind = self.fact.name, self.fact.type.kind
        chosen = [self.classes[i] for i in known]
        if kind in ("integer", "number", "date"):
            return _ranges(name, self.classes, known, kind, space)
        if kind == "set":
            return _or([_subset(name, self.fact.type.values, c.value) for c in chosen])
        values = self._values(chosen)
        rest = tuple(v for v in self._values(self.classes) if v not in values)
        if kind == "string" and any(c.kind == "other" for c in chosen):
            return m.Member(name, rest, negated=True) if rest else m.Known(name, True)
        if len(values) == 1:
            return m.Compare(name, "==", values[0])
        if kind == "enum" and len(rest) == 1:
            return m.Compare(name, "!=", rest[0])
        if kind in ("bool", "enum") and len(rest) < len(values):
            return m.Member(name, rest, negated=True)
        return m.Member(name, values)

    @staticmethod
    def _values(classes: Sequence[FactClass]) -> tuple[m.Value, ...]:
        return tuple(c.value for c in classes if c.kind == "value" and c.value is not None)


def _or(parts: list[m.Expr]) -> m.Expr:
    return parts[0] if len(parts) == 1 else m.Or(tuple(parts))


def _subset(name: str, elements: Sequence[str], value: object) -> m.Expr:
    assert isinstance(value, frozenset)
    tests: list[m.Expr] = [m.Known(name, True)]
    tests += [m.Contains(name, e) if e in value else m.Not(m.Contains(name, e)) for e in elements]
    return m.And(tuple(tests))


def _plain(value: m.Value) -> float:
    if isinstance(value, datetime.date):
        return float(value.toordinal())
    assert isinstance(value, int | float)
    return float(value)


def _literal(value: float, kind: str) -> m.Value:
    if kind == "date":
        return datetime.date.fromordinal(int(value))
    if kind == "integer" and value.is_integer():
        return int(value)
    return value


def _ranges(
    name: str, classes: list[FactClass], known: list[int], kind: str, space: list[int]
) -> m.Expr:
    """Consecutive classes of a number line as `low <= x < high` ranges; a range that reaches
    an end of the `space` (the classes that may occur) needs no bound on that side."""
    runs: list[list[int]] = []
    for index in known:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    parts: list[m.Expr] = []
    for run in runs:
        first, last = classes[run[0]], classes[run[-1]]
        tests: list[m.Expr] = []
        if first.kind == "value" and len(run) == 1 and first.low is not None:
            parts.append(m.Compare(name, "==", _literal(first.low, kind)))
            continue
        low, high = first.low, last.high  # a point class has low == high == the point
        if run[0] > space[0] and low is not None:
            op: m.Comparator = ">" if first.kind == "interval" else ">="
            tests.append(m.Compare(name, op, _literal(low, kind)))
        if run[-1] < space[-1] and high is not None:
            op = "<" if last.kind == "interval" else "<="
            tests.append(m.Compare(name, op, _literal(high, kind)))
        if not tests:
            tests.append(m.Known(name, True))
        parts.append(tests[0] if len(tests) == 1 else m.And(tuple(tests)))
    return _or(parts)


def _line_classes(fact: m.Fact, constants: Sequence[m.Value]) -> list[FactClass]:
    """Points (the constants and declared bounds) and the open intervals between them."""
    t = fact.type
    points = {
        _plain(c)
        for c in constants
        if isinstance(c, int | float | datetime.date) and not isinstance(c, bool)
    }
    points.update(float(b) for b in (t.minimum, t.maximum) if b is not None)
    bounded = fact.type.kind == "date"  # the calendar has a first and a last day
    if bounded:
        points.update((float(FIRST_DAY), float(LAST_DAY)))
    if fact.type.kind == "integer":
        points = {p for p in points if p.is_integer()}
    ordered = sorted(points)
    found: list[FactClass] = []
    edges: list[float | None] = [None, *ordered, None]
    for index, point in enumerate([*ordered, None]):
        low, high = edges[index], point
        if bounded and (low is None or high is None):
            pass
        elif _nonempty(low, high, fact.type.kind):
            found.append(FactClass("interval", low=low, high=high))
        if point is not None:
            found.append(FactClass("value", _literal(point, fact.type.kind), point, point))
    return found


def _nonempty(low: float | None, high: float | None, kind: str) -> bool:
    if low is None or high is None:
        return True
    if kind in ("integer", "date"):
        return math.floor(low) + 1 <= math.ceil(high) - 1
    return low < high


def _inside(cls: FactClass, minimum: float | None, maximum: float | None) -> bool:
    if cls.kind == "value":
        assert cls.low is not None
        value = cls.low
        return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    low_ok = minimum is None or (cls.low is not None and cls.low >= minimum)
    high_ok = maximum is None or (cls.high is not None and cls.high <= maximum)
    return low_ok and high_ok


def _number(var: FactVar) -> Term:
    return z3_module().ToReal(var.value) if var.kind == "integer" else var.value


def _constant(var: FactVar, value: float) -> Term:
    z3 = z3_module()
    if var.kind == "date":
        return z3.IntVal(int(value))
    if var.kind == "integer":
        return z3.RealVal(int(value)) if value.is_integer() else number_term(z3, value)
    return number_term(z3, value)
