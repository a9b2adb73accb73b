"""The syntax tree: what the author wrote, with spans, before any name or type is resolved.

Produced by `leukorules.syntax.parser` (the nodes are built by `syntax.build` as the parser
reduces); consumed by the checker (which builds the model) and by the formatter (which prints it
back). Every node is a frozen, slotted dataclass whose span is left out of equality, so two trees
that differ only in layout compare equal; each kind of rule-body line has its own type. Lark's
own tree never leaves the syntax package.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

from leukorules.source import Span

# --- literals -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameLit:
    """A bare identifier: an enum value, or a fact on the right-hand side of a comparison."""

    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class StringLit:
    value: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class NumberLit:
    text: str
    unit: str | None
    span: Span = field(compare=False)

    @property
    def value(self) -> int | float:
        return int(self.text) if self.text.lstrip("-").isdigit() else float(self.text)


@dataclass(frozen=True, slots=True)
class DateLit:
    text: str
    span: Span = field(compare=False)

    def parse(self) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(self.text)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class BoolLit:
    value: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class DottedLit:
    text: str
    span: Span = field(compare=False)


Literal_: TypeAlias = NameLit | StringLit | NumberLit | DateLit | BoolLit
FieldValue: TypeAlias = NameLit | StringLit | NumberLit | DateLit | DottedLit

# --- conditions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ConstExpr:
    value: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Truthy:
    fact: Name
    span: Span = field(compare=False)


Comparator = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class CompareExpr:
    fact: Name
    op: Comparator
    operand: Literal_
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class MemberExpr:
    fact: Name
    values: tuple[Literal_, ...]
    negated: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ContainsExpr:
    fact: Name
    value: Literal_
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class KnownExpr:
    fact: Name
    known: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AndExpr:
    items: tuple[Expr, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class OrExpr:
    items: tuple[Expr, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class NotExpr:
    item: Expr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ParenExpr:
    """Parentheses the author wrote; kept so the formatter can keep them."""

    item: Expr
    span: Span = field(compare=False)


Expr: TypeAlias = (
    ConstExpr
    | Truthy
    | CompareExpr
    | MemberExpr
    | ContainsExpr
    | KnownExpr
    | AndExpr
    | OrExpr
    | NotExpr
    | ParenExpr
)

# --- claims of properties -------------------------------------------------------------------

Outcome = Literal["fired", "not_fired", "undetermined", "overridden"]


@dataclass(frozen=True, slots=True)
class OutcomeExpr:
    """`adem.ivig fired`: a test of a rule's outcome (in a property's claim only)."""

    rule: Name
    outcome: Outcome
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ClaimAnd:
    items: tuple[Claim, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ClaimOr:
    items: tuple[Claim, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ClaimNot:
    item: Claim
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ClaimParen:
    item: Claim
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ImpliesExpr:
    """`premise implies conclusion`: the loosest operator of a claim."""

    premise: Claim
    conclusion: Claim
    span: Span = field(compare=False)


# What a property claims: the tests of a condition and of rule outcomes, joined by claim
# operators (a claim's leaves that test facts are ordinary `Expr` nodes).
Claim: TypeAlias = Expr | OutcomeExpr | ClaimAnd | ClaimOr | ClaimNot | ClaimParen | ImpliesExpr

# --- declarations ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    name: Name
    value: FieldValue
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class PolicyBlock:
    id: Name
    fields: tuple[Field, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Include:
    path: StringLit
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class EvidenceBlock:
    id: Name
    fields: tuple[Field, ...]
    span: Span = field(compare=False)


TypeKind = Literal["bool", "integer", "number", "enum", "set", "string", "date"]


@dataclass(frozen=True, slots=True)
class TypeSpec:
    kind: TypeKind
    values: tuple[Name, ...] = ()
    unit: str | None = None
    range: tuple[NumberLit, NumberLit] | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class FactDecl:
    name: Name
    type: TypeSpec
    description: StringLit | None
    derived: bool
    span: Span = field(compare=False)


# --- rule and gap bodies: one type per kind of line -------------------------------------------

BodyKind = Literal[
    "statement",
    "evidence",
    "when",
    "recommend",
    "strength",
    "alternatives",
    "note",
    "caution",
    "background",
    "derive",
    "after",
    "overrides",
    "line",
    "require",
    "message",
]
NoteKind = Literal["note", "caution", "background"]


@dataclass(frozen=True, slots=True)
class Statement:
    """`statement "..."`: the guideline sentence, quoted verbatim."""

    text: StringLit
    span: Span = field(compare=False)
    kind: ClassVar[Literal["statement"]] = "statement"


@dataclass(frozen=True, slots=True)
class EvidenceRefs:
    """`evidence 3, 4`: the evidence a rule rests on."""

    refs: tuple[Name, ...]
    span: Span = field(compare=False)
    kind: ClassVar[Literal["evidence"]] = "evidence"


@dataclass(frozen=True, slots=True)
class When:
    """`when ...`: the condition under which a rule applies."""

    condition: Expr
    span: Span = field(compare=False)
    kind: ClassVar[Literal["when"]] = "when"


@dataclass(frozen=True, slots=True)
class Recommend:
    """`recommend "..."`: a recommendation, the conclusion of a rule."""

    action: StringLit
    span: Span = field(compare=False)
    kind: ClassVar[Literal["recommend"]] = "recommend"


@dataclass(frozen=True, slots=True)
class Strength:
    """`strength recommended`: the strength of a recommendation."""

    level: Name
    span: Span = field(compare=False)
    kind: ClassVar[Literal["strength"]] = "strength"


@dataclass(frozen=True, slots=True)
class Alternatives:
    """`alternatives "...", "..."`: other actions a recommendation allows."""

    actions: tuple[StringLit, ...]
    span: Span = field(compare=False)
    kind: ClassVar[Literal["alternatives"]] = "alternatives"


@dataclass(frozen=True, slots=True)
class Note:
    """`note`, `caution` or `background` (its `kind`), with its text or without (then the
    statement itself is what the rule states)."""

    kind: NoteKind
    text: StringLit | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class Derive:
    """`derive fact = value`: sets a derived fact, the conclusion of a rule."""

    fact: Name
    value: Literal_
    span: Span = field(compare=False)
    kind: ClassVar[Literal["derive"]] = "derive"


@dataclass(frozen=True, slots=True)
class After:
    """`after a, b`: rules whose conclusions come before this one's."""

    rules: tuple[Name, ...]
    span: Span = field(compare=False)
    kind: ClassVar[Literal["after"]] = "after"


@dataclass(frozen=True, slots=True)
class Overrides:
    """`overrides a, b`: rules this one takes precedence over."""

    rules: tuple[Name, ...]
    span: Span = field(compare=False)
    kind: ClassVar[Literal["overrides"]] = "overrides"


@dataclass(frozen=True, slots=True)
class Line:
    """`line 3`: a recommendation's line of therapy, stated (otherwise `after` decides it)."""

    number: NumberLit
    span: Span = field(compare=False)
    kind: ClassVar[Literal["line"]] = "line"


@dataclass(frozen=True, slots=True)
class Require:
    """`require ...`: what a constraint demands of the facts where it applies."""

    condition: Expr
    span: Span = field(compare=False)
    kind: ClassVar[Literal["require"]] = "require"


@dataclass(frozen=True, slots=True)
class Message:
    """`message "..."`: what a broken constraint tells the reader."""

    text: StringLit
    span: Span = field(compare=False)
    kind: ClassVar[Literal["message"]] = "message"


# One line of a rule, gap or constraint body; every kind has a `kind` (its keyword) and a `span`.
BodyItem: TypeAlias = (
    Statement
    | EvidenceRefs
    | When
    | Recommend
    | Strength
    | Alternatives
    | Note
    | Derive
    | After
    | Overrides
    | Line
    | Require
    | Message
)
Conclusion: TypeAlias = Recommend | Note | Derive
BlockKind = Literal["rule", "gap", "constraint"]


@dataclass(frozen=True, slots=True)
class RuleBlock:
    """A `rule`, `gap` or `constraint` block (its `block`): an id and body lines."""

    id: Name
    items: tuple[BodyItem, ...]
    block: BlockKind
    span: Span = field(compare=False)

    @property
    def is_gap(self) -> bool:
        return self.block == "gap"


@dataclass(frozen=True, slots=True)
class PropertyBlock:
    """`property id { "text" for every patient: claim }`: what must hold for every patient."""

    id: Name
    text: StringLit
    claim: Claim
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SectionBlock:
    title: StringLit
    items: tuple[SectionBlock | RuleBlock, ...]
    span: Span = field(compare=False)


# --- terminology bindings -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConceptLine:
    """`snomed 22255007 "Display" source "..."`: one code of a value set, with where it was
    checked."""

    system: Name
    code: Name
    display: StringLit
    source: StringLit
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class ValueSetBlock:
    """`valueset name "Title" { concepts }`."""

    name: Name
    title: StringLit
    concepts: tuple[ConceptLine, ...]
    span: Span = field(compare=False)


BindOptionKind = Literal["lasting", "current", "refuted", "if_drug_cause"]


@dataclass(frozen=True, slots=True)
class BindOption:
    """`lasting`, `current`, `refuted gives VALUE` or `if due to a drug` after a coded line."""

    kind: BindOptionKind
    value: Literal_ | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class CodedLine:
    """`Condition in pml gives pml, lasting`: a resource whose code is in the value sets."""

    resource: Name
    value_sets: tuple[Name, ...]
    value: Literal_
    options: tuple[BindOption, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AnswerLine:
    """`Observation in seizure answers yes or no within 30 days`."""

    resource: Name
    value_sets: tuple[Name, ...]
    days: NumberLit
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class CauseLine:
    """`cause of Condition in pml, adem`: the drug such a Condition is due to."""

    resource: Name
    value_sets: tuple[Name, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class DrugLine:
    """`drug in mycophenolate gives mycophenolic_acid`."""

    value_set: Name
    value: Literal_
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class AnyDrugLine:
    """`any rxnorm drug gives other`."""

    system: Name
    value: Literal_
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class TakenLine:
    """`drug still taken`: whether the causative medication is still taken."""

    span: Span = field(compare=False)


BindLine: TypeAlias = CodedLine | AnswerLine | CauseLine | DrugLine | AnyDrugLine | TakenLine


@dataclass(frozen=True, slots=True)
class BindBlock:
    """`bind fact { lines }`: how the resources of a health record give one fact."""

    fact: Name
    lines: tuple[BindLine, ...]
    span: Span = field(compare=False)


Item: TypeAlias = (
    PolicyBlock
    | Include
    | EvidenceBlock
    | FactDecl
    | SectionBlock
    | RuleBlock
    | PropertyBlock
    | ValueSetBlock
    | BindBlock
)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Module:
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
