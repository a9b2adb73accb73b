"""Patient facts: a JSON or YAML document -> typed fact values, validated against the policy.

Input: a facts file (or `-` for stdin) holding one mapping of fact name -> value, and a checked
`Policy`. Output: `dict[str, Value]` of the known input facts plus every problem as a
`Diagnostic` (codes LR501-LR507), all of them at once, never an exception.

Rules of the format:
- absent or `null` means unknown, never false;
- values are checked by a pydantic model built from the policy's `fact` declarations (strict:
  no "3" for 3, no 1 for true); bool: true/false; integer: a whole number in the declared range;
  number: a finite number in range (stored as float); enum: one declared value; set: a list of
  declared values; string: text; date: `YYYY-MM-DD` (or a YAML date);
- derived facts cannot be supplied: the policy's rules derive them;
- YAML is read with the safe loader; anchors and aliases are refused outright (no alias bombs),
  documents that are not a single mapping are refused, duplicate keys are refused.

Diagnostics point at the line of the offending key. Being health data, values are quoted in a
diagnostic only where the reader needs them to fix the problem (an enum value with a typo, a
number outside its range) and never for free text; no code frame of the facts file is printed.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal

from leukorules import model as m
from leukorules.diagnostics import Code, Diagnostic, Related, did_you_mean
from leukorules.engine.values import LONE_SURROGATE, number_text
from leukorules.source import SourceFile, Span

if TYPE_CHECKING:
    from pydantic import BaseModel

# Facts of one patient are a few kilobytes; anything this large is a mistake, not a patient.
MAX_FACTS_BYTES = 1024 * 1024
STDIN_NAME = "<stdin>"
FactsFormat = Literal["json", "yaml"]


class FactsDocument(dict[str, object]):
    """A raw facts mapping that remembers where each fact name was written."""

    def __init__(
        self,
        items: Mapping[str, object] | None = None,
        spans: Mapping[str, Span] | None = None,
        name: str = "",
    ) -> None:
        super().__init__(items or {})
        self.spans: dict[str, Span] = dict(spans or {})
        self.name = name


# --- reading ----------------------------------------------------------------------------------


def _problem(code: Code, message: str, span: Span | None, hint: str | None = None) -> Diagnostic:
    return Diagnostic.make(code, message, span, hint)


def load_facts_file(
    path: str | Path, stdin: IO[bytes] | None = None
) -> tuple[FactsDocument | None, list[Diagnostic]]:
    """Read a JSON or YAML facts document; `-` reads stdin. Values are not validated here."""
    if str(path) == "-":
        name = STDIN_NAME
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            raw = stream.read(MAX_FACTS_BYTES + 1)
        except OSError as error:
            return None, [_problem(Code.LR501, f"cannot read stdin: {error}", None)]
        suffix = ""
    else:
        file = Path(path)
        name = _display(file)
        suffix = file.suffix.lower()
        if file.is_dir():
            return None, [
                _problem(
                    Code.LR501,
                    f"{name} is a folder, not a facts file",
                    None,
                    "give one JSON or YAML file",
                )
            ]
        try:
            with file.open("rb") as handle:
                raw = handle.read(MAX_FACTS_BYTES + 1)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            return None, [_problem(Code.LR501, f"cannot read facts file {name}: {reason}", None)]
    if len(raw) > MAX_FACTS_BYTES:
        return None, [
            _problem(
                Code.LR501,
                f"facts file is larger than {MAX_FACTS_BYTES:,} bytes",
                Span.point(name, 1, 1),
                "a facts file holds one patient's facts",
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return None, [
            _problem(
                Code.LR501,
                "facts file is not UTF-8 text",
                Span.point(name, line, 1),
                "save it as UTF-8 JSON or YAML",
            )
        ]
    text = text.removeprefix("\ufeff")
    return parse_facts_text(text, name, _format_of(suffix, text))


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _format_of(suffix: str, text: str) -> FactsFormat:
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if text.lstrip().startswith("{") else "yaml"


def parse_facts_text(
    text: str, name: str = STDIN_NAME, fmt: FactsFormat = "yaml"
) -> tuple[FactsDocument | None, list[Diagnostic]]:
    """Parse facts text (JSON or YAML) into a `FactsDocument` with the position of every key."""
    if not text.strip():
        return None, [
            _problem(
                Code.LR507,
                "the facts document is empty",
                Span.point(name, 1, 1),
                "write a mapping of fact name to value; `{}` when no fact is known",
            )
        ]
    source = SourceFile.from_text(name, text)
    if fmt == "json":
        return _parse_json(source)
    return _parse_yaml(source)


_WS = re.compile(r"[ \t\n\r]*")


def _not_a_mapping(what: str, span: Span) -> Diagnostic:
    return _problem(
        Code.LR507,
        f"the facts document is {what}, not a mapping of fact name to value",
        span,
        'write one mapping, e.g. {"age": 54}',
    )


def _kind_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} value"


def _parse_json(source: SourceFile) -> tuple[FactsDocument | None, list[Diagnostic]]:
    decoder = json.JSONDecoder()
    try:
        data = decoder.decode(source.text)
    except json.JSONDecodeError as error:
        return None, [
            _problem(
                Code.LR507,
                f"malformed JSON: {error.msg}",
                Span.point(source.path, error.lineno, error.colno),
            )
        ]
    except RecursionError:
        return None, [_problem(Code.LR507, "JSON nested too deeply", Span.point(source.path, 1, 1))]
    if not isinstance(data, dict):
        start = _WS.match(source.text, 0)
        offset = start.end() if start else 0
        line, column = source.position(offset)
        return None, [_not_a_mapping(_kind_of(data), Span.point(source.path, line, column))]
    # The document is valid JSON holding one object: walk its top level again for key positions
    # and duplicate keys (json.loads silently keeps the last duplicate).
    text = source.text
    positions: list[tuple[str, int]] = []
    pos = _skip(text, _skip(text, 0) + 1)
    if text[pos] != "}":
        while True:
            key, end = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
            positions.append((key, pos))
            pos = _skip(text, _skip(text, end) + 1)
            _, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] != ",":
                break
            pos = _skip(text, pos + 1)
    spans: dict[str, Span] = {}
    problems: list[Diagnostic] = []
    for key, offset in positions:
        span = source.span(offset, offset + len(key) + 2)
        if key in spans:
            problems.append(_duplicate(key, span, spans[key]))
        else:
            spans[key] = span
    if problems:
        return None, problems
    return FactsDocument(data, spans, source.path), []


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _duplicate(key: str, span: Span, first: Span) -> Diagnostic:
    return Diagnostic.make(
        Code.LR507,
        f"fact `{key}` is given twice",
        span,
        "give each fact once",
        [Related(first, "first given here")],
    )


def _mark_span(name: str, mark: Any) -> Span:
    if mark is None:
        return Span.point(name, 1, 1)
    return Span.point(name, int(mark.line) + 1, int(mark.column) + 1)


def _parse_yaml(source: SourceFile) -> tuple[FactsDocument | None, list[Diagnostic]]:
    import yaml

    name = source.path
    try:
        # Events first: refuse anchors and aliases before anything is composed or constructed.
        for event in yaml.parse(source.text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                return None, [
                    _problem(
                        Code.LR507,
                        "YAML anchors and aliases (`&name`, `*name`) are not allowed "
                        "in facts files",
                        _mark_span(name, event.start_mark),
                        "write every value out in full",
                    )
                ]
        loader = yaml.SafeLoader(source.text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, [
                    _problem(
                        Code.LR507,
                        "the facts document is empty",
                        Span.point(name, 1, 1),
                        "write a mapping of fact name to value; `{}` when no fact is known",
                    )
                ]
            if not isinstance(node, yaml.MappingNode):
                what = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
                return None, [_not_a_mapping(what, _mark_span(name, node.start_mark))]
            data: dict[str, object] = {}
            spans: dict[str, Span] = {}
            problems: list[Diagnostic] = []
            for key_node, value_node in node.value:
                span = _mark_span(name, key_node.start_mark)
                key = _construct(loader, key_node)
                if isinstance(key, _Unreadable):
                    problems.append(_problem(Code.LR507, f"cannot read this key: {key}", span))
                    continue
                if not isinstance(key, str):
                    shown = "null" if key is None else _kind_of(key)
                    problems.append(
                        _problem(
                            Code.LR502,
                            f"fact names are text; this key is {shown}",
                            span,
                            "quote the key if it is meant as a fact name",
                        )
                    )
                    continue
                if key in spans:
                    problems.append(_duplicate(key, span, spans[key]))
                    continue
                spans[key] = span
                value = _construct(loader, value_node)
                if isinstance(value, _Unreadable):
                    problems.append(
                        _problem(
                            Code.LR507,
                            f"the value of `{key}` cannot be read: {value}",
                            _mark_span(name, value_node.start_mark),
                        )
                    )
                    continue
                data[key] = value
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        parts = [p for p in (error.context, error.problem) if p]
        problem = ", ".join(parts) if parts else "cannot be read"
        return None, [_problem(Code.LR507, f"malformed YAML: {problem}", _mark_span(name, mark))]
    except yaml.YAMLError as error:
        return None, [_problem(Code.LR507, f"malformed YAML: {error}", Span.point(name, 1, 1))]
    except RecursionError:
        return None, [_problem(Code.LR507, "YAML nested too deeply", Span.point(name, 1, 1))]
    if problems:
        return None, problems
    return FactsDocument(data, spans, name), []


class _Unreadable(str):
    """A YAML node the safe constructor could not build (the text says why)."""


def _construct(loader: Any, node: Any) -> object:
    """Build one node with the safe constructor. A scalar the constructor rejects (an impossible
    date such as 2025-02-30 is resolved as a timestamp and raises) is kept as its text, so
    validation can say what is wrong with it; other failures come back as `_Unreadable`."""
    import yaml

    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as error:
        loader.recursive_objects.clear()
        loader.state_generators = []
        loader.deep_construct = False
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return _Unreadable(str(error))


# --- validation -------------------------------------------------------------------------------


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
    return _model_for(tuple((f.name, f.type) for f in policy.input_facts))


def validate_facts(
    policy: m.Policy, raw: Mapping[str, object]
) -> tuple[dict[str, m.Value], list[Diagnostic]]:
    """Raw JSON/YAML values -> typed values of the known input facts, plus every problem.

    `null` values are dropped (unknown). On problems, the returned dict holds the facts that
    had none, so callers can still show partial results if they wish; the CLI does not.
    """
    from pydantic import ValidationError

    model_policy = policy
    spans: Mapping[str, Span] = getattr(raw, "spans", {})
    inputs = [f.name for f in model_policy.input_facts]
    problems: list[Diagnostic] = []
    pending: dict[str, object] = {}
    for key, value in raw.items():
        span = spans.get(key) if isinstance(key, str) else None
        if not isinstance(key, str):
            problems.append(_problem(Code.LR502, "fact names are text", span))
            continue
        fact = model_policy.facts.get(key)
        if fact is None:
            hint = did_you_mean(key, inputs) or _listing("facts of this policy", inputs)
            problems.append(
                _problem(Code.LR502, f"`{key}` is not a fact of this policy", span, hint)
            )
            continue
        if fact.derived:
            problems.append(
                _problem(
                    Code.LR506,
                    f"`{key}` is a derived fact; the policy's rules derive it from other facts",
                    span,
                    "remove it and give the facts it is derived from",
                )
            )
            continue
        if value is not None:
            pending[key] = value
    model = facts_model(model_policy)
    bad: set[str] = set()
    try:
        validated = model.model_validate(pending)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            location = detail["loc"]
            name = str(location[0])
            bad.add(name)
            index = location[1] if len(location) > 1 else None
            fact = model_policy.facts[name]
            problems.append(
                _value_problem(
                    fact,
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
        hint: str | None = f"{suggestion} ({allowed})" if suggestion else allowed
        assert hint is not None
        if value.strip().lower() in ("unknown", "null", "none", "n/a", ""):
            hint += "; for an unknown fact, leave it out or write null"
        return _problem(
            Code.LR504, f"`{_short(value)}` is not an allowed value of {where}", span, hint
        )
    if error_type in ("greater_than_equal", "less_than_equal") and isinstance(value, int | float):
        unit = f" [{fact_type.unit}]" if fact_type.unit else ""
        low = number_text(fact_type.minimum) if fact_type.minimum is not None else "-inf"
        high = number_text(fact_type.maximum) if fact_type.maximum is not None else "inf"
        return _problem(
            Code.LR505,
            f"`{name}` = {number_text(value)}{unit} is outside its declared range {low}..{high}",
            span,
            "check the value and its unit",
        )
    where = f"`{name}`" if index is None else f"item {index + 1} of `{name}`"
    expected = _expected(fact_type) if index is None else "one of: " + ", ".join(fact_type.values)
    message = f"{where} must be {expected}; it is {_kind_of(value)}"
    hint = None
    if error_type == "date_time":
        hint = "give only the date, YYYY-MM-DD"
    elif error_type == "date_format":
        message = f"{where} must be a date written YYYY-MM-DD"
        hint = "e.g. 2024-03-01"
    elif error_type == "date_invalid":
        message = f"{where} is not a calendar date"
        hint = "write the date as YYYY-MM-DD, e.g. 2024-03-01"
    elif error_type == "finite_number":
        message = f"{where} must be a finite number"
    elif error_type == "text_not_unicode" and isinstance(value, str):
        found = LONE_SURROGATE.search(value)
        assert found is not None
        message = (
            f"{where} is not valid Unicode text: character {found.start() + 1} is a lone "
            f"surrogate (U+{ord(found.group()):04X})"
        )
        hint = "a \\uD800-\\uDFFF escape must be one half of a pair; fix the text or its encoding"
    elif fact_type.kind == "integer" and isinstance(value, float):
        message = f"{where} must be a whole number"
        if value.is_integer():
            hint = "write whole numbers without a decimal point"
    elif isinstance(value, bool) and fact_type.kind in ("enum", "string", "set"):
        hint = "YAML reads yes/no/on/off as true/false; quote the value"
    elif isinstance(value, str) and fact_type.kind in ("bool", "integer", "number"):
        hint = "write the value without quotes"
        if value.strip().lower() in ("unknown", "null", "none", "n/a", ""):
            hint = "for an unknown fact, leave it out or write null"
        elif _looks_numeric(value) and fact_type.kind != "bool":
            hint = (
                "the value was read as text; write a plain number "
                "(YAML reads forms like 1e3 as text)"
            )
    elif fact_type.kind == "set" and index is None:
        hint = f"e.g. {name}: [{fact_type.values[0]}]"
    return _problem(Code.LR503, message, span, hint)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
