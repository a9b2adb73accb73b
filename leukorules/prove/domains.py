"""Facts as solver variables: whether each is known, and its value when it is.

Input: fact declarations (for `diff`, the union of two policies' declarations of a fact) and the
string literals the policies write. Output: a `FactVar` per fact, whose tests (`compare`,
`member`, `contains`, `compare_to`) are solver terms over its value, true or false for the known
value (the caller adds "known"); `within(fact)` says a known value is one the declaration admits
(enum values, set elements, range), and `value_of(model)` reads a patient's value back.

Sorts: bool -> Bool; enum -> Int, the index of the value among the declared values; set -> one
Bool per element; integer -> Int; number -> Real; date -> Int, the day's ordinal; string -> Int,
the index in a pool of every string the policy writes plus as many "other" strings as there are
string facts (equality is all a condition asks of a string, so this is exact). Numbers are exact
rationals: a decimal a policy or a patient writes is the same number in the solver as for the
engine, and two decimals compare the same way as the engine's floating-point values of them
(for numbers written with at most 15 significant digits).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from leukorules import model as m
from leukorules.prove.solver import z3_module

Term = Any  # a Z3 expression (z3 ships no type information)

FIRST_DAY = datetime.date.min.toordinal()
LAST_DAY = datetime.date.max.toordinal()
_OTHER = "another value"


def number_term(z3: Any, value: int | float) -> Term:
    """A number literal as an exact solver value: a float by its shortest decimal."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return z3.RealVal(value)
    exact = Fraction(repr(value))
    return z3.RealVal(f"{exact.numerator}/{exact.denominator}")


def fraction_number(value: Fraction) -> int | float:
    """A solver's rational as a patient's number: an int when whole, else the nearest float."""
    return int(value) if value.denominator == 1 else float(value)


class StringPool:
    """Strings as indexes: every literal the policies write, then distinct other strings."""

    def __init__(self, literals: Iterable[str], others: int) -> None:
        self.strings: list[str] = sorted(set(literals))
        taken = set(self.strings)
        self.others: list[str] = []
        for n in range(1, max(others, 1) + 1):
            text = f"{_OTHER} {n}"
            while text in taken:
                text += "'"
            taken.add(text)
            self.others.append(text)
        self.strings.extend(self.others)
        self.index = {text: i for i, text in enumerate(self.strings)}

    def __len__(self) -> int:
        return len(self.strings)


@dataclass
class FactVar:
    """One fact's solver variables: `known`, and `value` (or `elements` for a set)."""

    fact: m.Fact
    known: Term
    value: Term = None
    elements: dict[str, Term] = field(default_factory=dict)
    strings: StringPool | None = None

    @property
    def kind(self) -> m.FactKind:
        return self.fact.type.kind

    def enum_index(self, name: str) -> int | None:
        values = self.fact.type.values
        return values.index(name) if name in values else None

    def literal(self, value: m.Value) -> Term:
        """A literal of this fact's type as a solver value (None: not one of its values)."""
        z3 = z3_module()
        match self.kind:
            case "bool":
                return z3.BoolVal(bool(value))
            case "enum":
                index = self.enum_index(str(value))
                return None if index is None else z3.IntVal(index)
            case "integer" | "number":
                assert isinstance(value, int | float)
                return number_term(z3, value)
            case "date":
                assert isinstance(value, datetime.date)
                return z3.IntVal(value.toordinal())
            case "string":
                assert self.strings is not None
                index = self.strings.index.get(str(value))
                return None if index is None else z3.IntVal(index)
        raise TypeError(f"no literal of a {self.kind} fact")

    def _number(self) -> Term:
        return z3_module().ToReal(self.value) if self.kind == "integer" else self.value

    def compare(self, op: m.Comparator, value: m.Value) -> Term:
        z3 = z3_module()
        literal = self.literal(value)
        if literal is None:  # a value the type does not have: never equal
            return z3.BoolVal(op == "!=")
        left = self._number() if self.kind in ("integer", "number") else self.value
        return _COMPARE[op](left, literal)

    def member(self, values: Sequence[m.Value]) -> Term:
        return z3_module().Or([self.compare("==", v) for v in values])

    def contains(self, element: str) -> Term:
        found = self.elements.get(element)
        return z3_module().BoolVal(False) if found is None else found

    def compare_to(self, op: m.Comparator, other: FactVar) -> Term:
        """This known value against another fact's known value."""
        z3 = z3_module()
        if self.kind == "enum":
            equal = z3.Or(
                [
                    z3.And(self.value == i, other.value == j)
                    for i, name in enumerate(self.fact.type.values)
                    if (j := other.enum_index(name)) is not None
                ]
            )
            return equal if op == "==" else z3.Not(equal)
        if self.kind in ("integer", "number") or other.kind in ("integer", "number"):
            return _COMPARE[op](self._number(), other._number())
        return _COMPARE[op](self.value, other.value)

    def within(self, declared: m.Fact) -> Term:
        """A known value is one `declared` (this fact's declaration in one policy) admits."""
        z3 = z3_module()
        t = declared.type
        match self.kind:
            case "bool":
                return z3.BoolVal(True)
            case "enum":
                inside = [
                    self.value == i for i, v in enumerate(self.fact.type.values) if v in t.values
                ]
                return z3.Or(inside)
            case "set":
                return z3.And([z3.Not(b) for e, b in self.elements.items() if e not in t.values])
            case "integer" | "number":
                bounds = []
                if t.minimum is not None:
                    bounds.append(self._number() >= number_term(z3, t.minimum))
                if t.maximum is not None:
                    bounds.append(self._number() <= number_term(z3, t.maximum))
                return z3.And(bounds)
            case "date":
                return z3.And(self.value >= FIRST_DAY, self.value <= LAST_DAY)
            case "string":
                assert self.strings is not None
                return z3.And(self.value >= 0, self.value < len(self.strings))
        raise TypeError(self.kind)

    def equals(self, value: m.Value) -> Term:
        """This fact known, with this value (a set: exactly these elements)."""
        z3 = z3_module()
        if self.kind == "set":
            assert isinstance(value, frozenset)
            exact = [b if e in value else z3.Not(b) for e, b in self.elements.items()]
            return z3.And(self.known, *exact)
        return z3.And(self.known, self.compare("==", value))

    def value_of(self, model: Any) -> m.Value | None:
        """The value a solver model gives this fact (None: unknown)."""
        z3 = z3_module()
        if not z3.is_true(model.eval(self.known, model_completion=True)):
            return None
        if self.kind == "set":
            return frozenset(e for e, b in self.elements.items() if z3.is_true(model.eval(b, True)))
        found = model.eval(self.value, model_completion=True)
        match self.kind:
            case "bool":
                return bool(z3.is_true(found))
            case "enum":
                return self.fact.type.values[int(found.as_long())]
            case "integer":
                return int(found.as_long())
            case "number":
                return fraction_number(Fraction(found.as_fraction()))
            case "date":
                return datetime.date.fromordinal(int(found.as_long()))
        assert self.strings is not None
        return self.strings.strings[int(found.as_long())]


_COMPARE: dict[str, Any] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def fact_var(fact: m.Fact, prefix: str, strings: StringPool) -> FactVar:
    """Fresh solver variables for one fact, named after it (`prefix` keeps two policies apart)."""
    z3 = z3_module()
    name = prefix + fact.name
    known = z3.Bool(f"{name}?")
    kind = fact.type.kind
    if kind == "set":
        elements = {e: z3.Bool(f"{name}:{e}") for e in fact.type.values}
        return FactVar(fact, known, None, elements)
    sort = {"bool": z3.Bool, "number": z3.Real}.get(kind, z3.Int)
    return FactVar(fact, known, sort(name), strings=strings if kind == "string" else None)


def string_literals(facts: Mapping[str, m.Fact], exprs: Iterable[m.Expr]) -> set[str]:
    """Every literal these conditions compare a string fact with: the pool's named part."""

    def is_string(name: str) -> bool:
        return name in facts and facts[name].type.kind == "string"

    found: set[str] = set()
    stack = list(exprs)
    while stack:
        node = stack.pop()
        match node:
            case m.Compare(fact=name, value=str() as value) if is_string(name):
                found.add(value)
            case m.Member(fact=name, values=values) if is_string(name):
                found.update(v for v in values if isinstance(v, str))
            case m.And(items=items) | m.Or(items=items):
                stack.extend(items)
            case m.Not(item=item):
                stack.append(item)
    return found


def fact_vars(facts: Iterable[m.Fact], strings: StringPool, prefix: str = "") -> dict[str, FactVar]:
    return {fact.name: fact_var(fact, prefix, strings) for fact in facts}


def patient(variables: Mapping[str, FactVar], model: Any) -> dict[str, m.Value]:
    """The known facts of a solver model, in declaration order."""
    found: dict[str, m.Value] = {}
    for name, var in variables.items():
        value = var.value_of(model)
        if value is not None:
            found[name] = value
    return found
