"""Facts -> validated values: the gate every fact passes before a rule reads it.

Input: raw facts (a mapping of fact name -> value, from a facts file, a cohort row or a Python
caller) and the policy's declarations. Output: `ValidatedFacts`, an immutable mapping of the
known input facts holding typed values, or every problem as a `Diagnostic` (LR502 unknown name,
LR503 wrong type, LR504 value not allowed, LR505 outside the declared range, LR506 a derived fact
supplied), all of them at once. `FactsValidator.validate` raises them together as `FactsError`.

Rules: absent or None is unknown, never false; derived facts cannot be supplied; values are
strict (no "3" for 3, no 1 for true): bool true/false; integer a whole number in range; number a
finite number in range (kept as float); enum one declared value; set a list (or tuple, set or
frozenset) of declared values (kept as a frozenset); string text holding no lone surrogate;
date a `datetime.date` or `YYYY-MM-DD`.

Two paths, one meaning: a per-policy check built from the declarations (`FactsValidator`) accepts
the common, valid facts in a few microseconds and says nothing else; whatever it does not accept
goes to `validate_facts`, a pydantic model built from the same declarations, which accepts what
is valid after all and writes the diagnostics of what is not. Tests hold the two to the same
answers. Being health data, values are quoted in a diagnostic only where the reader needs them
(an enum value with a typo, a number outside its range), never free text.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, final

from leukorules import messages as msg
from leukorules import model as m
from leukorules.diagnostics import Diagnostic, Related, did_you_mean
from leukorules.engine.facts_file import kind_of
from leukorules.engine.trace import expr_text
from leukorules.engine.typed_codegen import Typed, typed_function
from leukorules.engine.values import LONE_SURROGATE
from leukorules.source import Span

if TYPE_CHECKING:
    from pydantic import BaseModel

# The input facts of a policy as validation sees them: (name, type) in declaration order.
Declarations = tuple[tuple[str, m.FactType], ...]
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def declarations(policy: m.Policy) -> Declarations:
    return tuple((f.name, f.type) for f in policy.input_facts)


class FactsError(ValueError):
    """Facts that break the policy's declarations or contradict each other: `diagnostics` holds
    every problem (the message names each offending fact), `contradictions` the ids of the
    constraints the facts break."""

    def __init__(self, diagnostics: list[Diagnostic], contradictions: tuple[str, ...] = ()) -> None:
        self.diagnostics = tuple(diagnostics)
        self.contradictions = contradictions
        count = len(self.diagnostics)
        lines = [
            f"{count} problem{'s' if count != 1 else ''} with the facts; nothing was evaluated:"
        ]
        for d in self.diagnostics:
            line = f"  {d.message} [{d.code}]"
            if d.hint:
                line += f" ({d.hint})"
            lines.append(line)
        super().__init__("\n".join(lines))


@final
class ValidatedFacts(Mapping[str, m.Value]):
    """One patient's known input facts, checked against one policy's declarations.

    Immutable. Built only by `FactsValidator` (or `CompiledPolicy.validate`); the engine takes
    it without checking again, for a policy with the same declarations. Its repr names the facts
    it holds, never their values (health data)."""

    __slots__ = ("_values", "declarations")

    def __init__(self, values: dict[str, m.Value], declared: Declarations, /) -> None:
        self._values = values
        self.declarations = declared

    def __getitem__(self, name: str) -> m.Value:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)

    def __repr__(self) -> str:
        return f"<ValidatedFacts: {', '.join(self._values) or 'no fact known'}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ValidatedFacts):
            return self._values == other._values and self.declarations == other.declarations
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._values.items()))


def contradiction_message(constraint: m.Constraint, facts: Mapping[str, m.Fact]) -> str:
    """What breaking a constraint means, in words: its own message, or its conditions."""
    return constraint.message or (
        f"where {expr_text(constraint.when, facts)} holds, "
        f"{expr_text(constraint.require, facts)} must hold too"
    )


# The policy's constraints that typed facts break (the generated `_broken`), by index.
BrokenConstraints = Callable[[Mapping[str, object]], list[int]]


class FactsValidator:
    """The validation of one policy's facts (see the module docstring): the types of each fact,
    then the constraints between them (`broken` finds those the facts break)."""

    def __init__(self, policy: m.Policy, broken: BrokenConstraints) -> None:
        self.policy = policy
        self.declarations = declarations(policy)
        self._broken = broken
        # The typed values when every fact passes its check, in declaration order; None when
        # any does not (the full validation then decides, and explains).
        self._fast: Typed = typed_function(self.declarations, _fast_check, _REFUSED)

    def accepts(self, facts: ValidatedFacts) -> bool:
        """Whether `facts` were validated against these same declarations."""
        return facts.declarations is self.declarations or facts.declarations == self.declarations

    def check(
        self, raw: Mapping[str, object], constraints: bool = True
    ) -> tuple[ValidatedFacts | None, list[Diagnostic]]:
        """The validated facts, or None and every problem. `constraints=False` checks each fact
        alone (for a cohort row already rejected for another reason: a contradiction is only
        looked for between facts that are each valid)."""
        facts, problems, _ = self._check(raw, constraints)
        return facts, problems

    def _check(
        self, raw: Mapping[str, object], constraints: bool = True
    ) -> tuple[ValidatedFacts | None, list[Diagnostic], tuple[str, ...]]:
        """`check`, and the ids of the constraints the facts break."""
        values = self._fast(raw)
        if values is None:
            values, problems = validate_facts(self.policy, raw)
            if problems:
                return None, problems, ()
        broken = self._broken(values) if constraints else []
        if broken:
            spans: Mapping[str, Span] = getattr(raw, "spans", {})
            ids = tuple(self.policy.constraints[k].id for k in broken)
            return None, [self._contradiction(k, values, spans) for k in broken], ids
        return ValidatedFacts(values, self.declarations), [], ()

    def _contradiction(
        self, k: int, values: Mapping[str, m.Value], spans: Mapping[str, Span]
    ) -> Diagnostic:
        """Constraint k broken: its message, and the facts it reads that the patient has."""
        constraint = self.policy.constraints[k]
        facts = self.policy.facts
        names = [
            n
            for n in dict.fromkeys(
                (*m.expr_facts(constraint.when), *m.expr_facts(constraint.require))
            )
            if values.get(n) is not None
        ]
        shown = ", ".join(f"`{n}` = {m.value_text(values[n], facts.get(n))}" for n in names)
        message = contradiction_message(constraint, facts)
        located = [spans[n] for n in names if n in spans]
        related = [Related(span, "a fact the constraint reads") for span in located[1:]]
        return msg.FACTS_CONTRADICT.at(
            located[0] if located else None,
            why=message,
            facts=shown,
            id=constraint.id,
            related=related,
        )

    def validate(self, raw: Mapping[str, object]) -> ValidatedFacts:
        """The validated facts; raises `FactsError` with every problem."""
        if isinstance(raw, ValidatedFacts) and self.accepts(raw):
            return raw
        facts, problems, broken = self._check(raw)
        if facts is None:
            raise FactsError(problems, broken)
        return facts


_REFUSED = object()
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _fast_check(fact_type: m.FactType) -> Callable[[object], object]:
    """A check of one value that accepts only what `validate_facts` accepts, converted alike,
    and returns `_REFUSED` for everything else (including much that is valid after all)."""
    kind = fact_type.kind
    low, high = fact_type.minimum, fact_type.maximum
    allowed = frozenset(fact_type.values)
    if kind == "bool":
        return lambda v: v if type(v) is bool else _REFUSED
    if kind == "integer":

        def integer(v: object) -> object:
            if type(v) is not int or not INT64_MIN <= v <= INT64_MAX:
                return _REFUSED
            if (low is not None and v < low) or (high is not None and v > high):
                return _REFUSED
            return v

        return integer
    if kind == "number":

        def number(v: object) -> object:
            if type(v) is int:
                try:
                    v = float(v)
                except OverflowError:
                    return _REFUSED
            if type(v) is not float or not math.isfinite(v):
                return _REFUSED
            if (low is not None and v < low) or (high is not None and v > high):
                return _REFUSED
            return v

        return number
    if kind == "enum":
        return lambda v: v if type(v) is str and v in allowed else _REFUSED
    if kind == "string":
        return lambda v: v if type(v) is str and not LONE_SURROGATE.search(v) else _REFUSED
    if kind == "set":

        def elements(v: object) -> object:
            if type(v) not in (list, tuple, set, frozenset):
                return _REFUSED
            # Element types first: a list or mapping in the list cannot go into a frozenset.
            if not all(type(e) is str for e in v):  # type: ignore[attr-defined]
                return _REFUSED
            items = frozenset(v)  # type: ignore[call-overload]
            return items if items <= allowed else _REFUSED

        return elements

    def date(v: object) -> object:
        if type(v) is datetime.date:
            return v
        if type(v) is str and _ISO_DATE.fullmatch(v):
            try:
                return datetime.date.fromisoformat(v)
            except ValueError:
                return _REFUSED
        return _REFUSED

    return date


# --- the full validation, which also explains -----------------------------------------------


def _iso_date(value: object) -> object:
    from pydantic_core import PydanticCustomError

    if isinstance(value, datetime.datetime):
        raise PydanticCustomError("date_time", "a date and time, not a date")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise PydanticCustomError("date_format", "not written YYYY-MM-DD")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_invalid", "not a calendar date") from None
    return value


def _unicode_text(value: str) -> str:
    from pydantic_core import PydanticCustomError

    if LONE_SURROGATE.search(value):
        raise PydanticCustomError("text_not_unicode", "holds a lone surrogate")
    return value


def _annotation(fact_type: m.FactType) -> Any:
    from pydantic import AfterValidator, BeforeValidator, Field, Strict

    kind = fact_type.kind
    low, high = fact_type.minimum, fact_type.maximum
    if kind == "bool":
        return Annotated[bool, Strict()]
    if kind == "integer":
        return Annotated[int, Strict(), Field(ge=low, le=high)]
    if kind == "number":
        return Annotated[float, Strict(), Field(ge=low, le=high, allow_inf_nan=False)]
    if kind == "enum":
        return Literal.__getitem__(fact_type.values)
    if kind == "set":
        return frozenset[Literal.__getitem__(fact_type.values)]  # type: ignore[misc]
    if kind == "string":
        return Annotated[str, Strict(), AfterValidator(_unicode_text)]
    return Annotated[datetime.date, Strict(), BeforeValidator(_iso_date)]


@lru_cache(maxsize=64)
def _model_for(declarations: tuple[tuple[str, m.FactType], ...]) -> type[BaseModel]:
    from pydantic import ConfigDict, Field, create_model

    fields: dict[str, Any] = {}
    for index, (name, fact_type) in enumerate(declarations):
        # Field names are generated; the fact name is the alias, so a fact may be called
        # anything the grammar allows (even `model_config`) without clashing with pydantic.
        fields[f"f{index}"] = (_annotation(fact_type) | None, Field(default=None, alias=name))
    model: type[BaseModel] = create_model(
        "PatientFacts",
        __config__=ConfigDict(extra="forbid", frozen=True, validate_by_name=False),
        **fields,
    )
    return model


def facts_model(policy: m.Policy) -> type[BaseModel]:
    """The pydantic model of a patient's input facts, built from the policy's declarations."""
    return _model_for(declarations(policy))


def validate_facts(
    policy: m.Policy, raw: Mapping[str, object]
) -> tuple[dict[str, m.Value], list[Diagnostic]]:
    """Raw values -> typed values of the known input facts, plus every problem.

    None values are dropped (unknown). On problems, the returned dict holds the facts that had
    none; every caller here refuses the whole patient then. Positions come from a
    `FactsDocument` (`raw.spans`) when there is one.
    """
    from pydantic import ValidationError

    spans: Mapping[str, Span] = getattr(raw, "spans", {})
    inputs = [f.name for f in policy.input_facts]
    problems: list[Diagnostic] = []
    pending: dict[str, object] = {}
    for key, value in raw.items():
        span = spans.get(key) if isinstance(key, str) else None
        if not isinstance(key, str):
            problems.append(msg.FACT_NAME_NOT_A_STRING.at(span))
            continue
        fact = policy.facts.get(key)
        if fact is None:
            hint = did_you_mean(key, inputs) or _listing("facts of this policy", inputs)
            problems.append(msg.FACT_UNKNOWN.at(span, name=key, hint=hint))
            continue
        if fact.derived:
            problems.append(msg.FACT_DERIVED_SUPPLIED.at(span, name=key))
            continue
        if value is not None:
            pending[key] = value
    model = facts_model(policy)
    bad: set[str] = set()
    try:
        validated = model.model_validate(pending)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            location = detail["loc"]
            name = str(location[0])
            bad.add(name)
            index = location[1] if len(location) > 1 else None
            problems.append(
                _value_problem(
                    policy.facts[name],
                    detail["type"],
                    detail.get("input"),
                    index if isinstance(index, int) else None,
                    spans.get(name),
                )
            )
        validated = model.model_validate({k: v for k, v in pending.items() if k not in bad})
    dumped = validated.model_dump(by_alias=True, exclude_none=True)
    values: dict[str, m.Value] = {name: dumped[name] for name in inputs if name in dumped}
    problems.sort(key=lambda d: (d.span.line if d.span else 0, d.span.column if d.span else 0))
    return values, problems


def _listing(what: str, names: list[str]) -> str:
    if not names:
        return f"there are no {what}"
    shown = ", ".join(sorted(names)[:12])
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return f"{what}: {shown}{more}"


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _expected(fact_type: m.FactType) -> str:
    match fact_type.kind:
        case "bool":
            return "true or false"
        case "integer":
            return "a whole number"
        case "number":
            return "a finite number"
        case "enum":
            return "one of: " + ", ".join(fact_type.values)
        case "set":
            return "a list of values from: " + ", ".join(fact_type.values)
        case "string":
            return "text"
    return "a date written YYYY-MM-DD"


def _value_problem(
    fact: m.Fact, error_type: str, value: object, index: int | None, span: Span | None
) -> Diagnostic:
    name = fact.name
    fact_type = fact.type
    allowed = "allowed values: " + ", ".join(fact_type.values)
    if error_type == "literal_error" and isinstance(value, str):
        where = f"`{name}`" if index is None else f"`{name}` (item {index + 1})"
        suggestion = did_you_mean(value, fact_type.values)
        listed = f"{suggestion} ({allowed})" if suggestion else allowed
        if value.strip().lower() in ("unknown", "null", "none", "n/a", ""):
            listed += "; " + msg.HINT_UNKNOWN_IS_NULL
        return msg.FACT_VALUE_NOT_ALLOWED.at(span, value=_short(value), where=where, hint=listed)
    if error_type in ("greater_than_equal", "less_than_equal") and isinstance(value, int | float):
        return msg.FACT_OUT_OF_RANGE.at(
            span,
            name=name,
            value=m.number_text(value),
            unit=f" [{fact_type.unit}]" if fact_type.unit else "",
            low=m.number_text(fact_type.minimum) if fact_type.minimum is not None else "-inf",
            high=m.number_text(fact_type.maximum) if fact_type.maximum is not None else "inf",
        )
    where = f"`{name}`" if index is None else f"item {index + 1} of `{name}`"
    expected = _expected(fact_type) if index is None else "one of: " + ", ".join(fact_type.values)
    if error_type == "date_format":
        return msg.FACT_NOT_A_DATE.at(span, where=where)
    if error_type == "date_invalid":
        return msg.FACT_NOT_A_CALENDAR_DATE.at(span, where=where)
    if error_type == "finite_number":
        return msg.FACT_NOT_FINITE.at(span, where=where)
    if error_type == "text_not_unicode" and isinstance(value, str):
        found = LONE_SURROGATE.search(value)
        assert found is not None
        return msg.FACT_LONE_SURROGATE.at(
            span, where=where, position=found.start() + 1, code=ord(found.group())
        )
    if fact_type.kind == "integer" and isinstance(value, float):
        whole = msg.HINT_NO_DECIMAL_POINT if value.is_integer() else None
        return msg.FACT_NOT_WHOLE.at(span, where=where, hint=whole)
    hint: str | None = None
    if error_type == "date_time":
        hint = msg.HINT_DATE_ONLY
    elif isinstance(value, bool) and fact_type.kind in ("enum", "string", "set"):
        hint = msg.HINT_YAML_BOOLEAN
    elif isinstance(value, str) and fact_type.kind in ("bool", "integer", "number"):
        hint = msg.HINT_NO_QUOTES
        if value.strip().lower() in ("unknown", "null", "none", "n/a", ""):
            hint = msg.HINT_UNKNOWN_IS_NULL
        elif _looks_numeric(value) and fact_type.kind != "bool":
            hint = msg.HINT_NUMBER_READ_AS_TEXT
    elif fact_type.kind == "set" and index is None:
        hint = f"e.g. {name}: [{fact_type.values[0]}]"
    return msg.FACT_WRONG_TYPE.at(
        span, where=where, expected=expected, kind=kind_of(value), hint=hint
    )


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
