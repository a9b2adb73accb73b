"""The result of an evaluation: one tree of frozen, slotted records, the published contract.

Input: built only by the engine (`leukorules.engine.build` and `leukorules.engine.explain`).
Output: `Evaluation` (and `Explanation` for one rule), read by every renderer and by API users;
`leukorules.result.serialize` writes it as JSON and `leukorules.result.schema` publishes its
JSON Schema (`docs/result.schema.json`).

Guarantees: every record is immutable (frozen dataclasses holding tuples, never lists), so the
engine shares the parts that do not depend on the patient between results (a rule's statement,
evidence and section, a strength, the policy's description) and repeats the rest from a
bounded memo; every sequence is in a fixed order (guideline order unless stated), so the same
policy and the same facts give byte-identical JSON; every evidence id in an entry is a key of
`policy.evidence`; fact values are JSON values (dates as `YYYY-MM-DD`, sets as sorted tuples of
text, unknown as None). `trace` is present only when tracing was asked for.

Field descriptions live in each field's metadata (`_doc`), where the JSON Schema reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias

from leukorules.result.serialize import to_json, to_plain

Outcome = Literal["fired", "not_fired", "undetermined", "overridden"]
FactValue: TypeAlias = bool | int | float | str | tuple[str, ...] | None
RuleKind = Literal["recommend", "note", "caution", "background", "derive"]
NoteKind = Literal["note", "caution", "background"]
Truth = Literal["true", "false", "unknown"]

# The JSON Schema refuses properties a record does not declare (pydantic reads this).
_CLOSED: Any = {"extra": "forbid"}


def _doc(text: str, **options: Any) -> Any:
    """A field carrying its description for the JSON Schema."""
    return field(metadata={"description": text}, **options)


def _no_rules() -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Strength:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    key: str = _doc("the strength as the policy writes it, e.g. first_line")
    label: str = _doc("how reports print it, e.g. first-line")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceInfo:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    id: str
    citation: str | None = _doc("null: the source gives no citation")
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    grade: str | None = None
    certainty: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInfo:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    path: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyInfo:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    id: str
    title: str
    version: str
    source: str | None = _doc("the guideline the policy encodes", default=None)
    effective: str | None = _doc("YYYY-MM-DD", default=None)
    sha256: str = _doc("sha256 over the policy source files")
    sources: tuple[SourceInfo, ...]
    evidence: Mapping[str, EvidenceInfo] = _doc("every declared evidence id")


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineInfo:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    name: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """One fact that made a condition true, with the value it had."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    fact: str
    value: FactValue
    unit: str | None = None
    derived: bool = False
    rule: str | None = _doc("for a derived fact: the rule deriving it", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    """What every entry about one rule says: which rule, its statement, evidence, section."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    rule: str
    statement: str = _doc("the guideline statement, verbatim")
    evidence: tuple[str, ...]
    section: tuple[str, ...] = _doc("headings from the top")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fired(_Entry):
    because: tuple[Reason, ...] = _doc("the facts that made the condition true")
    chain: tuple[str, ...] = _doc(
        "upstream rules this one builds on (derivations it read, earlier lines), "
        "transitively, upstream first"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation(_Fired):
    action: str
    strength: Strength
    alternatives: tuple[str, ...]
    line: int = _doc("line of therapy: 1, or 1 + the line of the rules it follows")
    after: tuple[str, ...] = _doc("the rules this one follows (`after`)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Note(_Fired):
    kind: NoteKind
    text: str | None = _doc("the note's own text; null: the statement is the note")


@dataclass(frozen=True, slots=True, kw_only=True)
class Derived(_Fired):
    value: FactValue
    rules: tuple[str, ...] = _doc("every fired rule deriving this value")


@dataclass(frozen=True, slots=True, kw_only=True)
class Undetermined(_Entry):
    kind: RuleKind
    action: str | None = _doc("for a recommendation: its action", default=None)
    missing: tuple[str, ...] = _doc("unknown input facts that would decide it")
    unresolved: tuple[str, ...] = _doc(
        "derived facts it reads that stay unknown whatever is supplied", default_factory=_no_rules
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Overridden(_Entry):
    kind: RuleKind
    overridden_by: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class GapInfo:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    id: str
    section: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class UndeterminedGap:
    """A gap of the guideline that may concern this patient: its condition is unknown."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    id: str
    section: tuple[str, ...]
    note: str | None
    missing: tuple[str, ...] = _doc("unknown input facts that would decide whether it applies")
    unresolved: tuple[str, ...] = _doc(
        "derived facts it reads that stay unknown whatever is supplied", default_factory=_no_rules
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    fact: str
    value: FactValue
    unit: str | None = None
    derived: bool = False
    rule: str | None = _doc("for a derived fact: the rule deriving it", default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class WhyNot:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    reason: Literal["condition", "after", "overridden"]
    condition: str | None = _doc(
        "the first false sub-condition, in the rule language", default=None
    )
    line: int | None = None
    column: int | None = None
    reads: tuple[Read, ...] = _doc("the values it read", default_factory=tuple)
    rules: tuple[str, ...] = _doc(
        "after: the earlier rules that did not fire; overridden: the rules that won",
        default_factory=_no_rules,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceEntry:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    rule: str
    kind: RuleKind
    outcome: Outcome
    condition: Truth = _doc("the `when` alone")
    why_not: WhyNot | None = None
    missing: tuple[str, ...] = field(default_factory=_no_rules)


# --- where the facts came from (a health record) -----------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSource:
    """A resource of a health record (or a facts file given with it) that gave a value."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    resource_type: str = _doc('a FHIR resource type such as Condition, or "facts file"')
    id: str | None = _doc("the resource's id")
    location: str = _doc("where: a FHIR path such as Bundle.entry[3].resource, or a file name")
    system: str | None = _doc("the code system of the coding that spoke", default=None)
    code: str | None = _doc("the code", default=None)
    display: str | None = _doc("the code's display text, as the record gives it", default=None)
    date: str | None = _doc(
        "the date the resource gives (recorded, onset, effective)", default=None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceEvidence:
    """What one source says about one fact."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    value: FactValue = _doc("the value it gives; null: none (see reason)")
    reason: str = _doc("why it gives that value, or none")
    source: RecordSource


@dataclass(frozen=True, slots=True, kw_only=True)
class FactProvenance:
    """Where a fact's value came from: the value used, or why it stays unknown, and every
    source that spoke."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    value: FactValue = _doc("the value the evaluation used; null: unknown")
    reason: str | None = _doc("why the fact stays unknown; null when it has a value")
    evidence: tuple[SourceEvidence, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    # One patient's result: every outcome, and what decided each reported rule. (A comment,
    # not a docstring: the published schema has no description for it.)
    __pydantic_config__: ClassVar[Any] = _CLOSED
    # Written to JSON only when not None (`leukorules.result.serialize`).
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"trace", "provenance"})

    policy: PolicyInfo
    facts_sha256: str = _doc("sha256 of the canonical JSON of the known input facts")
    engine: EngineInfo
    outcomes: Mapping[str, Outcome] = _doc("every rule, in guideline order")
    recommendations: tuple[Recommendation, ...]
    notes: tuple[Note, ...]
    derived: Mapping[str, Derived]
    undetermined: tuple[Undetermined, ...]
    gaps: tuple[GapInfo, ...]
    undetermined_gaps: tuple[UndeterminedGap, ...] = _doc(
        "gaps whose condition is unknown: they may concern the patient"
    )
    overridden: tuple[Overridden, ...]
    trace: tuple[TraceEntry, ...] | None = _doc(
        "present only when tracing was asked for", default=None
    )
    provenance: Mapping[str, FactProvenance] | None = _doc(
        "present only when the facts came from a health record (FHIR): for every fact its "
        "bindings read, and every fact a facts file added, where its value came from",
        default=None,
    )

    def fired(self) -> list[str]:
        """Ids of the fired recommendations and notes, in result order."""
        return [e.rule for e in self.recommendations] + [e.rule for e in self.notes]

    def to_json(self, indent: int | None = None) -> str:
        """The published JSON of this result (`docs/result.schema.json`)."""
        return to_json(self, indent)

    def to_dict(self) -> dict[str, Any]:
        """This result as JSON-ready Python values (what `to_json` writes)."""
        plain: dict[str, Any] = to_plain(self)
        return plain

    # The names pydantic gave these methods when results were pydantic models; kept so callers
    # written against them go on working.
    def model_dump_json(self, *, indent: int | None = None) -> str:
        return self.to_json(indent)

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        return self.to_dict()


# --- explanation of one rule ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionStep:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    text: str
    kind: str
    truth: Truth
    line: int | None = None
    column: int | None = None
    reads: tuple[Read, ...] = field(default_factory=tuple)
    children: tuple[ConditionStep, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    __pydantic_config__: ClassVar[Any] = _CLOSED
    rule: str
    outcome: Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why one rule (or gap) fired, did not fire, or is undetermined, step by step."""

    __pydantic_config__: ClassVar[Any] = _CLOSED
    rule: str
    kind: RuleKind | Literal["gap"]
    statement: str | None
    section: tuple[str, ...]
    evidence: tuple[str, ...]
    outcome: Outcome | Literal["relevant", "not_relevant"] = _doc(
        "a rule's outcome; a gap is relevant, not_relevant or undetermined"
    )
    condition: ConditionStep
    after: tuple[Dependency, ...]
    overridden_by: tuple[Dependency, ...]
    because: tuple[Reason, ...]
    chain: tuple[str, ...]
    missing: tuple[str, ...]
    unresolved: tuple[str, ...]
    why_not: WhyNot | None
    derives: str | None = _doc("for a derive rule: fact = value", default=None)

    def to_json(self, indent: int | None = None) -> str:
        return to_json(self, indent)

    def model_dump_json(self, *, indent: int | None = None) -> str:
        return self.to_json(indent)
