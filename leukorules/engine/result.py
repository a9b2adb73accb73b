"""The result of evaluating one patient: a pydantic model whose JSON is the published contract.

Input: built only by `leukorules.engine.compile.CompiledPolicy.evaluate`. Output: `Evaluation`,
serialised with `model_dump_json()`; its JSON Schema is `docs/result.schema.json`
(regenerate with `python -m leukorules.engine.result > docs/result.schema.json`).

Guarantees: every list is in a fixed order (guideline order unless stated), so the same policy and
the same facts give byte-identical JSON; every evidence id in an entry is a key of
`policy.evidence`; fact values are JSON (dates as `YYYY-MM-DD`, sets as sorted lists, unknown as
null). `trace` is present only when tracing was asked for.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic_core import SchemaSerializer

Outcome = Literal["fired", "not_fired", "undetermined", "overridden"]
FactValue = bool | int | float | str | list[str] | None
RuleKind = Literal["recommend", "note", "caution", "background", "derive"]
NoteKind = Literal["note", "caution", "background"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Strength(_Model):
    key: str = Field(description="the strength as the policy writes it, e.g. first_line")
    label: str = Field(description="how reports print it, e.g. first-line")


class EvidenceInfo(_Model):
    id: str
    citation: str | None = Field(description="null: the source gives no citation")
    url: str | None = None
    doi: str | None = None
    pmid: str | None = None
    grade: str | None = None
    certainty: str | None = None


class SourceInfo(_Model):
    path: str
    sha256: str


class PolicyInfo(_Model):
    id: str
    title: str
    version: str
    source: str | None = Field(default=None, description="the guideline the policy encodes")
    effective: str | None = Field(default=None, description="YYYY-MM-DD")
    sha256: str = Field(description="sha256 over the policy source files")
    sources: list[SourceInfo]
    evidence: dict[str, EvidenceInfo] = Field(description="every declared evidence id")


class EngineInfo(_Model):
    name: str
    version: str


class Reason(_Model):
    """One fact that made a condition true, with the value it had."""

    fact: str
    value: FactValue
    unit: str | None = None
    derived: bool = False
    rule: str | None = Field(default=None, description="for a derived fact: the rule deriving it")


class _Entry(_Model):
    rule: str
    statement: str = Field(description="the guideline statement, verbatim")
    evidence: list[str]
    section: list[str] = Field(description="headings from the top")


class _Fired(_Entry):
    because: list[Reason] = Field(description="the facts that made the condition true")
    chain: list[str] = Field(
        description="upstream rules this one builds on (derivations it read, earlier lines), "
        "transitively, upstream first"
    )


class Recommendation(_Fired):
    action: str
    strength: Strength
    alternatives: list[str]
    line: int = Field(description="line of therapy: 1, or 1 + the line of the rules it follows")
    after: list[str] = Field(description="the rules this one follows (`after`)")


class Note(_Fired):
    kind: NoteKind
    text: str | None = Field(description="the note's own text; null: the statement is the note")


class Derived(_Fired):
    value: FactValue
    rules: list[str] = Field(description="every fired rule deriving this value")


class Undetermined(_Entry):
    kind: RuleKind
    action: str | None = Field(default=None, description="for a recommendation: its action")
    missing: list[str] = Field(description="unknown input facts that would decide it")
    unresolved: list[str] = Field(
        default_factory=list,
        description="derived facts it reads that stay unknown whatever is supplied",
    )


class Overridden(_Entry):
    kind: RuleKind
    overridden_by: list[str]


class GapInfo(_Model):
    id: str
    section: list[str]
    note: str | None


class Read(_Model):
    fact: str
    value: FactValue
    unit: str | None = None
    derived: bool = False
    rule: str | None = Field(default=None, description="for a derived fact: the rule deriving it")


class WhyNot(_Model):
    reason: Literal["condition", "after", "overridden"]
    condition: str | None = Field(
        default=None, description="the first false sub-condition, in the rule language"
    )
    line: int | None = None
    column: int | None = None
    reads: list[Read] = Field(default_factory=list, description="the values it read")
    rules: list[str] = Field(
        default_factory=list,
        description="after: the earlier rules that did not fire; overridden: the rules that won",
    )


class TraceEntry(_Model):
    rule: str
    kind: RuleKind
    outcome: Outcome
    condition: Literal["true", "false", "unknown"] = Field(description="the `when` alone")
    why_not: WhyNot | None = None
    missing: list[str] = Field(default_factory=list)


class Evaluation(_Model):
    policy: PolicyInfo
    facts_sha256: str = Field(description="sha256 of the canonical JSON of the known input facts")
    engine: EngineInfo
    outcomes: dict[str, Outcome] = Field(description="every rule, in guideline order")
    recommendations: list[Recommendation]
    notes: list[Note]
    derived: dict[str, Derived]
    undetermined: list[Undetermined]
    gaps: list[GapInfo]
    overridden: list[Overridden]
    trace: list[TraceEntry] | None = Field(
        default=None, description="present only when tracing was asked for"
    )

    # No return annotation on purpose: with one, pydantic would publish that annotation
    # (a bare object) as the JSON Schema instead of the model's own fields.
    @model_serializer(mode="wrap")
    def _omit_absent_trace(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # Called for every serialisation, nested ones too, before the fields are read.
        if self.__pydantic_private__ is not None:
            self._materialise()
        data: dict[str, Any] = handler(self)
        if data.get("trace") is None:
            data.pop("trace", None)
        return data

    # --- lazily built entries
    #
    # The engine computes every outcome and the because/chain/missing of every reported rule
    # when it evaluates; building the pydantic entries (and the facts hash) from them is left
    # for the first time anything reads them: an attribute, a dump, a comparison, a copy or
    # pickling. A pending instance keeps its builder in `__pydantic_private__` (Evaluation
    # declares no private attributes) and holds the eager fields only; afterwards it is an
    # ordinary instance, its fields in declaration order, so its JSON is unchanged.

    def _materialise(self) -> None:
        with _LAZY_LOCK:
            private = self.__pydantic_private__
            if private is None:
                return
            built = private[_PENDING]()
            have = self.__dict__
            _set(self, "__dict__", {k: have[k] if k in have else built[k] for k in _EVAL_FIELDS})
            _set(self, "__pydantic_private__", None)

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            if name in _EVAL_FIELDS:
                try:
                    pending = object.__getattribute__(self, "__pydantic_private__")
                except AttributeError:
                    pending = None
                if pending is not None:
                    self._materialise()
                    return self.__dict__[name]
            return super().__getattr__(name)

    def __eq__(self, other: object) -> bool:
        if self.__pydantic_private__ is not None:
            self._materialise()
        if isinstance(other, Evaluation) and other.__pydantic_private__ is not None:
            other._materialise()
        return super().__eq__(other)

    def __hash__(self) -> int:
        self._materialise()
        return hash(tuple(self.__dict__[k] for k in _EVAL_FIELDS))  # lists: unhashable

    def __repr_args__(self) -> Any:
        self._materialise()
        return super().__repr_args__()

    def __iter__(self) -> Any:
        self._materialise()
        return super().__iter__()

    def __getstate__(self) -> dict[Any, Any]:
        self._materialise()
        return super().__getstate__()

    def __copy__(self) -> Self:
        self._materialise()
        return super().__copy__()

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        self._materialise()
        return super().__deepcopy__(memo)

    def model_dump_json(self, *, indent: int | None = None, **options: Any) -> str:
        """As pydantic's, byte for byte; without other options it skips the wrap serializer
        (`_omit_absent_trace`, which turns the dump into Python objects first): the instance
        is built first and a serializer of the same schema omits a null trace itself."""
        if options:
            return super().model_dump_json(indent=indent, **options)
        if self.__pydantic_private__ is not None:
            self._materialise()
        return _direct_serializer().to_json(self, indent=indent).decode()

    def fired(self) -> list[str]:
        """Ids of the fired recommendations and notes, in result order."""
        return [e.rule for e in self.recommendations] + [e.rule for e in self.notes]


_EVAL_FIELDS = tuple(Evaluation.model_fields)
_DIRECT: list[SchemaSerializer] = []


def _direct_serializer() -> SchemaSerializer:
    """`Evaluation`'s serializer without its wrap function: the trace is left out when null by
    the field itself (tests check the bytes equal the wrapped serializer's)."""
    if not _DIRECT:
        schema: Any = Evaluation.__pydantic_core_schema__
        if not isinstance(schema, dict):  # defer_build: not built yet
            Evaluation.model_rebuild(force=True)
            schema = Evaluation.__pydantic_core_schema__
        schema = copy.deepcopy(schema)
        model = schema["schema"] if schema["type"] == "definitions" else schema
        assert model["type"] == "model" and model["cls"] is Evaluation
        del model["serialization"]
        model["schema"]["fields"]["trace"]["serialization_exclude_if"] = _is_none
        _DIRECT.append(SchemaSerializer(schema, model.get("config")))
    return _DIRECT[0]


def _is_none(value: object) -> bool:
    return value is None


_PENDING = "pending"
_LAZY_LOCK = threading.RLock()


def pending_evaluation(eager: dict[str, Any], build: Callable[[], dict[str, Any]]) -> Evaluation:
    """An `Evaluation` holding the `eager` fields now; `build()` returns the others (at least)
    on first use. Like `trusted`, nothing is validated: the engine typed every value."""
    instance = Evaluation.__new__(Evaluation)
    _set(instance, "__dict__", eager)
    _set(instance, "__pydantic_fields_set__", set(_EVAL_FIELDS))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", {_PENDING: build})
    return instance


# --- explanation of one rule ------------------------------------------------------------------


class ConditionStep(_Model):
    text: str
    kind: str
    truth: Literal["true", "false", "unknown"]
    line: int | None = None
    column: int | None = None
    reads: list[Read] = Field(default_factory=list)
    children: list[ConditionStep] = Field(default_factory=list)


class Dependency(_Model):
    rule: str
    outcome: Outcome


class Explanation(_Model):
    """Why one rule (or gap) fired, did not fire, or is undetermined, step by step."""

    rule: str
    kind: RuleKind | Literal["gap"]
    statement: str | None
    section: list[str]
    evidence: list[str]
    outcome: Outcome | Literal["relevant", "not_relevant"] = Field(
        description="a rule's outcome; a gap is relevant, not_relevant or undetermined"
    )
    condition: ConditionStep
    after: list[Dependency]
    overridden_by: list[Dependency]
    because: list[Reason]
    chain: list[str]
    missing: list[str]
    unresolved: list[str]
    why_not: WhyNot | None
    derives: str | None = Field(default=None, description="for a derive rule: fact = value")


M = TypeVar("M", bound=BaseModel)
_FIELDS: dict[type[BaseModel], tuple[frozenset[str], tuple[tuple[str, bool, Any, Any], ...]]]
_FIELDS = {}
_set = object.__setattr__


def trusted(cls: type[M], values: dict[str, Any]) -> M:
    """An instance built from values the engine typed itself, without validating them again.

    Validation costs more than the whole evaluation; the engine constructs every field with its
    declared type (tests check that results equal their validated round trip and match the
    published schema). Fields left out take their defaults; nested models must already be
    instances. This is `BaseModel.model_construct` without its per-call alias handling; `values`
    becomes the instance's own dict when it names every field."""
    known = _FIELDS.get(cls)
    if known is None:
        fields = tuple(
            (
                name,
                info.is_required(),
                info.default_factory,
                None if info.is_required() or info.default_factory else info.default,
            )
            for name, info in cls.model_fields.items()
        )
        known = _FIELDS[cls] = (frozenset(cls.model_fields), fields)
    names, fields = known
    data = values
    if values.keys() != names:
        data = {}
        for name, required, factory, default in fields:
            if name in values:
                data[name] = values[name]
            elif required:
                raise TypeError(f"{cls.__name__}.{name} is required")
            else:
                data[name] = cast("Callable[[], Any]", factory)() if factory else default
        unknown = values.keys() - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    instance = cls.__new__(cls)
    _set(instance, "__dict__", data)
    _set(instance, "__pydantic_fields_set__", set(values))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


def result_schema() -> dict[str, Any]:
    """The published JSON Schema of `Evaluation` (what `model_dump_json` produces)."""
    schema: dict[str, Any] = Evaluation.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://leukorules.invalid/result.schema.json"
    return schema


def result_schema_text() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m leukorules.engine.result`
    print(result_schema_text(), end="")
