"""Raw cohort records -> validated fact values, for the python engine.

Input: `RawBatch`es from `leukorules.cohort.readers` and the cohort's column layout. Output: per
record either `(row, id, facts)` (the engine's `ValidatedFacts`, evaluated as they are) or a
`Problem` with every reason the record was rejected. Validation is the engine's own
(`CompiledPolicy.check_facts`: strict types, enum values, ranges, derived facts refused, and the
policy's constraints between facts); this module adds only what a cohort needs around it:

- the id: a JSON string or whole number, a non-empty CSV cell, a Parquet string or integer;
- JSON Lines: each line one JSON object; `NaN`/`Infinity` and repeated keys are malformed;
- CSV cells are text, read by the fact's type (the same rules the duckdb engine applies in SQL):
  an empty cell, or one of spaces and tabs only, is unknown; bool `true/false/yes/no/1/0` (any
  case); integer `[+-]digits`; number a decimal or exponent form; date `YYYY-MM-DD`; set: values
  separated by `;` (`[]` is the empty set); cells are trimmed of spaces and tabs, except for
  string facts;
- Parquet: a floating-point column of an integer fact is accepted where the value is whole
  (pandas stores integer columns with missing values as floats); a fractional value is rejected;
- integers must fit in 64 bits (both engines store them as such).

The duckdb engine's decoding in SQL (`leukorules.cohort.decode_sql`) implements the same rules;
the differential tests hold the two to the same rows, ids and diagnostic codes.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from leukorules import model as m
from leukorules.cohort.layout import Layout
from leukorules.cohort.readers import (
    CODE_SEPARATOR,
    REASON_SEPARATOR,
    Problem,
    RawBatch,
)
from leukorules.diagnostics import Message
from leukorules.engine.facts import FactsValidator, ValidatedFacts
from leukorules.messages import (
    ROW_BAD_ID,
    ROW_HALF_CHARACTER,
    ROW_JSON_CONSTANT,
    ROW_JSON_TOO_DEEP,
    ROW_KEYS_TWICE,
    ROW_MALFORMED_JSON,
    ROW_NO_ID,
    ROW_NOT_AN_OBJECT,
    ROW_NOT_DATE_TEXT,
    ROW_NOT_FINITE,
    ROW_NOT_TRUE_OR_FALSE_TEXT,
    ROW_NOT_WHOLE,
    ROW_OUTSIDE_INT64,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
CSV_TRUE = ("true", "yes", "1")
CSV_FALSE = ("false", "no", "0")
CSV_INTEGER = re.compile(r"[+-]?[0-9]+")
CSV_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
CSV_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CSV_EMPTY_SET = "[]"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
SET_SEPARATOR = ";"
BLANK = " \t"  # what trimming removes, here and in SQL: spaces and tabs

Decoded = tuple[int, str, ValidatedFacts]
# A reason a record is rejected: (diagnostic code, text).
Reason = tuple[str, str]


def reason(message: Message, **fields: object) -> Reason:
    return message.code, message.text.format(**fields)


# --- CSV cells ------------------------------------------------------------------------------


def csv_value(fact: m.Fact, text: str) -> tuple[object, Reason | None]:
    """A CSV cell as a raw fact value (None: unknown), or the reason it cannot be one."""
    kind = fact.type.kind
    if kind == "string":
        return (None, None) if not text.strip(BLANK) else (text, None)
    cell = text.strip(BLANK)
    if not cell:
        return None, None
    name = fact.name
    if kind == "bool":
        lowered = cell.lower()
        if lowered in CSV_TRUE:
            return True, None
        if lowered in CSV_FALSE:
            return False, None
        return None, reason(ROW_NOT_TRUE_OR_FALSE_TEXT, name=name)
    if kind == "integer":
        if not CSV_INTEGER.fullmatch(cell):
            return None, reason(ROW_NOT_WHOLE, name=name)
        return int(cell), None
    if kind == "number":
        if not CSV_NUMBER.fullmatch(cell):
            return None, reason(ROW_NOT_FINITE, name=name)
        number = float(cell)
        if not math.isfinite(number):
            return None, reason(ROW_NOT_FINITE, name=name)
        return number, None
    if kind == "date":
        if not CSV_DATE.fullmatch(cell):
            return None, reason(ROW_NOT_DATE_TEXT, name=name)
        return cell, None  # validate_facts checks the calendar
    if kind == "set":
        if cell == CSV_EMPTY_SET:
            return [], None
        return [part.strip(BLANK) for part in cell.split(SET_SEPARATOR)], None
    return cell, None  # enum


# --- JSON lines -----------------------------------------------------------------------------


class _Object(dict[str, object]):
    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, object]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append(key)
        obj[key] = value
    return obj


class _NotJSON(ValueError):
    """A constant Python's decoder accepts and JSON does not (NaN, Infinity, -Infinity)."""

    def __init__(self, constant: str) -> None:
        super().__init__(constant)
        self.constant = constant


def _no_constants(name: str) -> object:
    raise _NotJSON(name)


def _malformed(error: ValueError) -> Reason:
    if isinstance(error, _NotJSON):
        return reason(ROW_JSON_CONSTANT, constant=error.constant)
    problem = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
    return reason(ROW_MALFORMED_JSON, problem=problem)


_DECODER = json.JSONDecoder(object_pairs_hook=_object_pairs, parse_constant=_no_constants)


def _half_character(line: str, data: object) -> bool:
    """A `\\u` escape of half a surrogate pair, which no UTF-8 text can hold."""
    if not _SURROGATE_ESCAPE.search(line):
        return False
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_json_line(line: str) -> tuple[_Object, None] | tuple[None, Reason]:
    """A JSON Lines record as a JSON object, or why it is not one."""
    try:
        data = _DECODER.decode(line)
    except ValueError as error:
        return None, _malformed(error)
    except RecursionError:
        return None, reason(ROW_JSON_TOO_DEEP)
    if not isinstance(data, _Object):
        return None, reason(ROW_NOT_AN_OBJECT)
    if data.duplicates:
        keys = ", ".join(f"`{k}`" for k in dict.fromkeys(data.duplicates))
        return None, reason(ROW_KEYS_TWICE, keys=keys)
    if _half_character(line, data):
        return None, reason(ROW_HALF_CHARACTER)
    return data, None


_PLAIN_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def json_object_problem(line: str) -> Reason | None:
    """What `parse_json_line` would reject the line for, except repeated keys (None: nothing).

    The duckdb engine checks lines with this (the C decoder, several times faster than the
    pairs hook that finds repeated keys) and finds repeated keys in SQL."""
    try:
        data = _PLAIN_DECODER.decode(line)
    except ValueError as error:
        return _malformed(error)
    except RecursionError:
        return reason(ROW_JSON_TOO_DEEP)
    if not isinstance(data, dict):
        return reason(ROW_NOT_AN_OBJECT)
    if _half_character(line, data):
        return reason(ROW_HALF_CHARACTER)
    return None


# --- ids ------------------------------------------------------------------------------------


def json_id(value: object, column: str) -> tuple[str, None] | tuple[None, Reason]:
    if value is None:
        return None, reason(ROW_NO_ID, column=column)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None, reason(ROW_BAD_ID, column=column)
    text = str(value)
    if not text.strip(BLANK):
        return None, reason(ROW_NO_ID, column=column)
    return text, None


# --- the fast path of validation -------------------------------------------------------------


# --- the decoder ----------------------------------------------------------------------------


@dataclass
class DecodedBatch:
    records: list[Decoded]
    problems: list[Problem]


class Decoder:
    def __init__(self, layout: Layout, validator: FactsValidator) -> None:
        self.layout = layout
        self.validator = validator
        self.policy = layout.policy
        self.inputs = layout.inputs

    def decode(self, batch: RawBatch) -> DecodedBatch:
        out = DecodedBatch([], list(batch.problems))
        fmt = self.layout.format
        if fmt == "jsonl":
            self._jsonl(batch, out)
        elif fmt == "csv":
            self._csv(batch, out)
        else:
            self._parquet(batch, out)
        out.problems.sort(key=lambda p: p.row)
        return out

    def _finish(
        self,
        out: DecodedBatch,
        row: int,
        record_id: str | None,
        raw: dict[str, object],
        problems: list[Reason],
    ) -> None:
        problems.extend(_int64_problems(raw, self.inputs))
        # as the duckdb engine: facts can contradict each other only in a row with no other
        # problem (the id included)
        clean = not problems and record_id is not None
        values, diagnostics = self.validator.check(raw, constraints=clean)
        problems.extend((d.code, d.message) for d in diagnostics)
        if problems or record_id is None or values is None:
            codes = CODE_SEPARATOR.join(sorted({code for code, _ in problems}))
            text = REASON_SEPARATOR.join(text for _, text in problems)
            out.problems.append(Problem(row, record_id, codes, text))
        else:
            out.records.append((row, record_id, values))

    def _jsonl(self, batch: RawBatch, out: DecodedBatch) -> None:
        id_column = self.layout.id_column
        for row, line in zip(batch.rows, batch.payload, strict=True):
            data, malformed = parse_json_line(line)
            if data is None:
                assert malformed is not None
                out.problems.append(Problem(row, None, *malformed))
                continue
            problems: list[Reason] = []
            record_id, id_problem = json_id(data.pop(id_column, None), id_column)
            if id_problem:
                problems.append(id_problem)
            if self.layout.ignore_extra:
                raw: dict[str, object] = {k: v for k, v in data.items() if k in self.inputs}
            else:
                raw = data
            self._finish(out, row, record_id, raw, problems)

    def _csv(self, batch: RawBatch, out: DecodedBatch) -> None:
        layout = self.layout
        assert layout.columns is not None
        id_index = layout.columns.index(layout.id_column)
        fact_index = [(layout.columns.index(n), self.inputs[n]) for n in layout.fact_columns]
        for row, record in zip(batch.rows, batch.payload, strict=True):
            problems: list[Reason] = []
            record_id: str | None = record[id_index]
            if not record_id or not record_id.strip(BLANK):
                record_id = None
                problems.append(reason(ROW_NO_ID, column=layout.id_column))
            raw: dict[str, object] = {}
            for index, fact in fact_index:
                value, cell_problem = csv_value(fact, record[index])
                if cell_problem is not None:
                    problems.append(cell_problem)
                elif value is not None:
                    raw[fact.name] = value
            self._finish(out, row, record_id, raw, problems)

    def _parquet(self, batch: RawBatch, out: DecodedBatch) -> None:
        layout = self.layout
        table = batch.payload
        id_values = table.column(layout.id_column).to_pylist()
        columns = {n: table.column(n).to_pylist() for n in layout.fact_columns}
        for position, row in enumerate(batch.rows):
            problems: list[Reason] = []
            record_id, id_problem = json_id(id_values[position], layout.id_column)
            if id_problem:
                problems.append(id_problem)
            raw: dict[str, object] = {}
            for name, values in columns.items():
                value = values[position]
                if value is None:
                    continue
                kind = self.inputs[name].type.kind
                if isinstance(value, float) and kind == "integer" and value.is_integer():
                    value = int(value)
                elif isinstance(value, decimal.Decimal) and kind == "number":
                    value = float(value)
                raw[name] = value
            self._finish(out, row, record_id, raw, problems)


def _int64_problems(raw: dict[str, object], inputs: Mapping[str, m.Fact]) -> list[Reason]:
    """Whole numbers beyond 64 bits: reported here (ROW_OUTSIDE_INT64), left out of validation."""
    found: list[Reason] = []
    for name, value in list(raw.items()):
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not INT64_MIN <= value <= INT64_MAX
            and name in inputs
            and inputs[name].type.kind == "integer"
        ):
            found.append(reason(ROW_OUTSIDE_INT64, name=name))
            del raw[name]
    return found


def date_of(value: object) -> object:
    """JSON form (YYYY-MM-DD) -> date, for typed output columns."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value)
    return value
