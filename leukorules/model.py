"""The checked, immutable policy model: the one thing every later stage consumes.

Input: produced only by `leukorules.check` from syntax trees that passed all checks.
Guarantees: every name is resolved (facts, evidence, rules), every comparison is well typed,
derived facts and rules form a DAG, and every element carries the `Span` it came from.
Spans are excluded from equality, so two policies that differ only in layout compare equal.
What the rules depend on is `leukorules.rulegraph`'s business, built on this model.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias
from urllib.parse import urlsplit

from leukorules.source import Span
from leukorules.terminology import Binding, ValueSet

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
    "crucial": "crucial",
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
    """What values a fact may hold: its kind, an enum's or set's values, a number's unit, bounds."""

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
            text += f" in {number_text(self.minimum)}..{number_text(self.maximum)}"
        return text


def reference_text(evidence_id: str) -> str:
    """`reference [1] in the source`: an evidence id is the source's reference, not a level."""
    return f"reference [{evidence_id}] in the source"


def references_text(ids: Sequence[str], escape: Callable[[str], str] = str) -> str:
    """`reference [1] in the source`, `references [1], [4] in the source` (`escape` applied to
    each id, for markdown)."""
    shown = ", ".join(f"[{escape(i)}]" for i in ids)
    return f"reference{'s' if len(ids) > 1 else ''} {shown} in the source"


def number_text(value: float | int) -> str:
    """A number as reports print it: whole floats without `.0`, others as Python writes them."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def value_text(value: object, fact: Fact | None = None) -> str:
    """How a fact value reads in reports and explanations: `true`, `65 [mg/dL]`, `high`,
    `{a, b}`, `unknown`; text of a string fact is quoted."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = number_text(value)
        unit = fact.type.unit if fact is not None else None
        return f"{text} [{unit}]" if unit else text
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | list | tuple):
        return "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    if isinstance(value, str) and fact is not None and fact.type.kind == "string":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@dataclass(frozen=True, slots=True)
class Fact:
    """A declared fact: its name, type and description; derived facts are set by `derive` rules."""

    name: str
    type: FactType
    description: str | None = None
    derived: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A declared evidence reference: the source's reference number, and what the source gives."""

    id: str
    citation: str | None = None  # None: the source gives no citation (declared `citation unknown`)
    citation_declared: bool = True
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    grade: str | None = None
    certainty: str | None = None
    span: Span | None = field(default_factory=_no_span, compare=False)


WEB_SCHEMES = ("http", "https")


def is_web_address(text: str) -> bool:
    """Whether `text` is what an evidence `url` may hold: an http or https address with a host
    and no space or control character. Reports write it as a link, so nothing else (`file:`,
    `javascript:`, a relative path) ever becomes one; the checker refuses the rest."""
    if not text.isprintable() or any(ch.isspace() for ch in text):
        return False
    try:
        parts = urlsplit(text)
        host, _ = parts.hostname, parts.port
    except ValueError:  # an unbalanced [ipv6] host, a port out of range
        return False
    written = text[: len(parts.scheme) + 3].lower()
    return parts.scheme in WEB_SCHEMES and written == parts.scheme + "://" and bool(host)


# --- Conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Const:
    """`true` or `false` written as a condition."""

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
    """Two facts compared with each other (`a < b`)."""

    left: str
    op: Comparator
    right: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Member:
    """A fact's value among a list of values (`in` / `not in`)."""

    fact: str
    values: tuple[Value, ...]
    negated: bool = False
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Contains:
    """A set-valued fact holding one value (`contains`)."""

    fact: str
    value: str
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Known:
    """Whether a fact is known (`known` / `unknown`): the one test that answers on unknown."""

    fact: str
    known: bool
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    """Every item holds (Kleene: false wins, then unknown)."""

    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    """Some item holds (Kleene: true wins, then unknown)."""

    items: tuple[Expr, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    """The item does not hold (unknown stays unknown)."""

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
    """A rule's recommendation: the action, its strength as the source words it, alternatives."""

    action: str
    strength: str = "unqualified"
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateNote:
    """A rule that states a note, a caution or background rather than recommending."""

    kind: StatementKind
    text: str | None = None  # None: the statement itself is the note


@dataclass(frozen=True, slots=True)
class Derive:
    """A rule that sets a derived fact to a value."""

    fact: str
    value: Value


Conclusion: TypeAlias = Recommend | StateNote | Derive


@dataclass(frozen=True, slots=True)
class Rule:
    """One guideline statement encoded: its words, evidence, condition and conclusion."""

    id: str
    statement: str
    evidence: tuple[str, ...]
    when: Expr
    conclusion: Conclusion
    section: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    line: int | None = None  # a recommendation's stated line of therapy (`line 3`)
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
class Constraint:
    """What the input facts must satisfy together: where `when` holds, `require` must too.

    Facts break a constraint when `when` is true and `require` false (unknown facts never
    break one); such facts contradict each other and are refused before any rule reads them."""

    id: str
    when: Expr
    require: Expr
    message: str | None = None  # None: the reports word it from the conditions
    span: Span | None = field(default_factory=_no_span, compare=False)


# --- properties: what must hold for every patient ---------------------------------------------

OutcomeName = Literal["fired", "not_fired", "undetermined", "overridden"]
OUTCOME_NAMES: tuple[OutcomeName, ...] = ("fired", "not_fired", "undetermined", "overridden")


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """`adem.ivig fired`: true when the rule's outcome for the patient is this one."""

    rule: str
    outcome: OutcomeName
    span: Span | None = field(default_factory=_no_span, compare=False)


# `and`, `or` and `not` over claims of which at least one tests an outcome (Kleene logic).
@dataclass(frozen=True, slots=True)
class AllOf:
    """A claim's items all hold."""

    items: tuple[Claim, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Some item of a claim holds."""

    items: tuple[Claim, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Negation:
    """A claim's item does not hold."""

    item: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Implies:
    """`premise implies conclusion`: true unless the premise is true and the conclusion is not
    (false or unknown); never unknown."""

    premise: Claim
    conclusion: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


# A claim: a condition (`Expr`) where it tests facts only, claim nodes where it tests outcomes.
Claim: TypeAlias = Expr | RuleOutcome | AllOf | AnyOf | Negation | Implies


@dataclass(frozen=True, slots=True)
class Property:
    """What must be true for every patient the constraints admit (`leukorules prove`)."""

    id: str
    text: str
    claim: Claim
    span: Span | None = field(default_factory=_no_span, compare=False)


@dataclass(frozen=True, slots=True)
class Section:
    """The headings a rule sits under, from the top."""

    path: tuple[str, ...]
    span: Span | None = field(default_factory=_no_span, compare=False)

    @property
    def title(self) -> str:
        return self.path[-1]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A source file of the policy, with the sha256 of its bytes."""

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
    constraints: tuple[Constraint, ...] = ()
    properties: tuple[Property, ...] = ()
    # Terminology bindings (`leukorules.terminology`): read by `leukorules.fhir` only.
    value_sets: Mapping[str, ValueSet] = field(default_factory=dict)
    bindings: tuple[Binding, ...] = ()
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
