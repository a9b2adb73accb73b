"""The checked, immutable policy model: the one thing every later stage consumes.

Input: produced only by `leukorules.check` from syntax trees that passed all checks.
Guarantees: every name is resolved (facts, evidence, rules), every comparison is well typed,
derived facts and rules form a DAG, and every element carries the `Span` it came from.
Spans are excluded from equality, so two policies that differ only in layout compare equal.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from leukorules.source import Span

FactKind = Literal["bool", "integer", "number", "enum", "set", "string", "date"]
Comparator = Literal["==", "!=", "<", "<=", ">", ">="]
StatementKind = Literal["note", "caution", "background"]

# A known fact value. Unknown is represented by absence (or None), never by a value.
Value: TypeAlias = bool | int | float | str | datetime.date | frozenset[str]

# The strength vocabulary. Keys are what authors write; values are how reports print them.
# The vocabulary is closed so that a typo cannot invent a strength the guideline never used.
STRENGTHS: dict[str, str] = {
    "first_line": "first-line",
    "primary": "primary approach",
    "recommended": "recommended",
    "suggested": "suggested",
    "may_be_considered": "may be considered",
    "may_help": "may help",
    "unqualified": "no strength stated",
}

GRADE_STRENGTHS = ("strong", "conditional", "weak")
GRADE_CERTAINTIES = ("high", "moderate", "low", "very_low")


def _no_span() -> Span | None:
    return None


@dataclass(frozen=True, slots=True)
class FactType:
    kind: FactKind
    values: tuple[str, ...] = ()
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def is_finite(self) -> bool:
        return self.kind in ("bool", "enum", "set")

    def describe(self) -> str:
        if self.kind in ("enum", "set"):
            inner = "{" + ", ".join(self.values) + "}"
            return f"enum {inner}" if self.kind == "enum" else f"set of {inner}"
        text: str = self.kind
        if self.unit:
            text += f" [{self.unit}]"
        if self.minimum is not None and self.maximum is not None:
            text += f" in {_number_text(self.minimum)}..{_number_text(self.maximum)}"
        return text


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


@dataclass(frozen=True, slots=True)
class Fact:
    name: str
    type: FactType
    description: str | None = None
    derived: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Evidence:
    id: str
    citation: str | None = None  # None: the source gives no citation (declared `citation unknown`)
    citation_declared: bool = True
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    grade: str | None = None
    certainty: str | None = None
    span: Span | None = field(default_factory=_no_span, compare=False)


# --- Conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    value: bool
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """`fact OP literal`; a bare bool fact `x` is `Compare("x", "==", True)`."""

    fact: str
    op: Comparator
    value: Value
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class CompareFacts:
    left: str
    op: Comparator
    right: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Member:
    fact: str
    values: tuple[Value, ...]
    negated: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Contains:
    fact: str
    value: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Known:
    fact: str
    known: bool
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr
    span: Span | None = field(default_factory=_no_span, compare=False)


Expr: TypeAlias = Const | Compare | CompareFacts | Member | Contains | Known | And | Or | Not


def expr_facts(expr: Expr) -> Iterator[str]:
    """Every fact name an expression reads, in reading order (may repeat)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        match node:
            case Compare(fact=name) | Member(fact=name) | Contains(fact=name) | Known(fact=name):
                yield name
            case CompareFacts(left=left, right=right):
                yield left
                yield right
            case And(items=items) | Or(items=items):
                stack.extend(reversed(items))
            case Not(item=item):
                stack.append(item)
            case Const():
                pass


# --- Conclusions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recommend:
    action: str
    strength: str = "unqualified"
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateNote:
    kind: StatementKind
    text: str | None = None  # None: the statement itself is the note


@dataclass(frozen=True, slots=True)
class Derive:
    fact: str
    value: Value


Conclusion: TypeAlias = Recommend | StateNote | Derive


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    statement: str
    evidence: tuple[str, ...]
    when: Expr
    conclusion: Conclusion
    section: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    span: Span | None = field(default_factory=_no_span, compare=False)

    @property
    def kind(self) -> str:
        match self.conclusion:
            case Recommend():
                return "recommend"
            case StateNote(kind=kind):
                return kind
            case Derive():
                return "derive"


@dataclass(frozen=True, slots=True)
class Gap:
    """A heading of the source under which the guideline makes no statement."""

    id: str
    section: tuple[str, ...]
    when: Expr
    note: str | None = None
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Section:
    path: tuple[str, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)

    @property
    def title(self) -> str:
        return self.path[-1]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    path: str
    sha256: str


@dataclass(frozen=True)
class Policy:
    """A checked policy. Rules and gaps are in guideline order (the order of the source)."""

    id: str
    title: str
    version: str
    source: str | None = None
    effective: datetime.date | None = None
    evidence: Mapping[str, Evidence] = field(default_factory=dict)
    facts: Mapping[str, Fact] = field(default_factory=dict)
    sections: tuple[Section, ...] = ()
    rules: tuple[Rule, ...] = ()
    gaps: tuple[Gap, ...] = ()
    sources: tuple[SourceInfo, ...] = field(default=(), compare=False)
    sha256: str = field(default="", compare=False)
    span: Span | None = field(default_factory=_no_span, compare=False)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def input_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts.values() if not f.derived)

    @property
    def derived_facts(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.facts.values() if f.derived)
