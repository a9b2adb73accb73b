"""Raw cohort values -> typed columns and the reasons a row is rejected, in SQL.

Input: a `Dialect`, a fact (or the id column) and an SQL expression of its raw value: a CSV cell
(text), a JSON value (NULL when the key is absent) or a typed Parquet column. Output: `Decoded`,
the value as an SQL expression of the fact's column type (`Dialect.column_type`; NULL for unknown
and for a value that cannot be decoded) and the `RowCheck`s that reject a row whose value cannot
be. Nothing is run here and nothing is remembered between calls: SQL text in, SQL text out.

These are the rules of the python engine's decoding (`leukorules.cohort.decode`: CSV cells read by
the fact's type; JSON values with the strict types of `leukorules.engine.facts.validate_facts`;
Parquet types checked up front), written once as SQL for every dialect; the differential tests
hold both engines to the same rows, ids and codes, and the reasons are the messages of
`leukorules.messages` (`ROW_*`). The declared-domain checks that follow decoding (enum values,
set elements, ranges) are `leukorules.cohort.sql.value_checks`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from leukorules import model as m
from leukorules.cohort.decode import (
    CSV_DATE,
    CSV_EMPTY_SET,
    CSV_FALSE,
    CSV_INTEGER,
    CSV_NUMBER,
    CSV_TRUE,
    SET_SEPARATOR,
)
from leukorules.cohort.dialect import Dialect, SQLExpr
from leukorules.cohort.readers import REASON_SEPARATOR
from leukorules.cohort.sql import RowCheck, row_check
from leukorules.diagnostics import Message
from leukorules.messages import (
    ROW_BAD_ID,
    ROW_DERIVED_FACT,
    ROW_JSON_KIND_OTHER,
    ROW_JSON_KINDS,
    ROW_JSON_NOT_BOOL,
    ROW_JSON_NOT_DATE,
    ROW_JSON_NOT_ENUM,
    ROW_JSON_NOT_NUMBER,
    ROW_JSON_NOT_SET,
    ROW_JSON_NOT_TEXT,
    ROW_JSON_NOT_WHOLE,
    ROW_NO_ID,
    ROW_NOT_CALENDAR_DATE,
    ROW_NOT_DATE_TEXT,
    ROW_NOT_FINITE,
    ROW_NOT_TRUE_OR_FALSE_TEXT,
    ROW_NOT_WHOLE,
    ROW_OUTSIDE_INT64,
    ROW_SET_ITEM_NOT_ALLOWED,
    ROW_UNKNOWN_FACT,
)

# A JSON number whose text is a whole number (one too large for 64 bits is typed as a double).
JSON_WHOLE = "-?[0-9]+"
# A date's year 0000 matches the pattern but is no calendar date anywhere.
NO_YEAR = "0000"


@dataclass(frozen=True, slots=True)
class Decoded:
    """A fact's (or the id's) typed value as SQL, and the checks of its raw value."""

    value: str
    checks: tuple[RowCheck, ...] = ()


def blank(d: Dialect, text: str) -> str:
    """True when a text is NULL, empty or only spaces and tabs (an unknown CSV cell).

    Such a text is empty or starts with a space (0x20) or a tab (0x09): it sorts before `!`
    (0x21; texts compare byte by byte). Most texts do not, and are never trimmed: trimming every
    id cost DuckDB a tenth of a Parquet cohort's query."""
    return f"({text} IS NULL OR ({text} < '!' AND {d.trim_blank(text)} = ''))"


def _date_from_text(d: Dialect, name: str, text: str, known: str) -> Decoded:
    shaped = d.full_match(text, CSV_DATE.pattern)
    ok = f"({shaped} AND {d.substring(text, 1, 4)} <> {d.string(NO_YEAR)})"
    value = f"CASE WHEN {ok} THEN {d.try_cast(text, d.date_type)} END"
    return Decoded(
        value,
        (
            row_check(f"{known} AND NOT {shaped}", ROW_NOT_DATE_TEXT, d, name=name),
            row_check(
                f"{known} AND {shaped} AND {value} IS NULL", ROW_NOT_CALENDAR_DATE, d, name=name
            ),
        ),
    )


# --- CSV cells ------------------------------------------------------------------------------


def decode_csv(d: Dialect, fact: m.Fact, column: str) -> Decoded:
    """A CSV cell (text) -> the fact's column type, by the rules of `cohort.decode.csv_value`."""
    name, kind = fact.name, fact.type.kind
    is_blank = blank(d, column)
    cell = d.trim_blank(column)
    known = f"NOT {is_blank}"
    if kind == "string":
        return Decoded(f"CASE WHEN {is_blank} THEN NULL ELSE {column} END")
    if kind == "enum":
        return Decoded(f"CASE WHEN {is_blank} THEN NULL ELSE {cell} END")
    if kind == "bool":
        true = ", ".join(d.string(t) for t in CSV_TRUE)
        false = ", ".join(d.string(t) for t in CSV_FALSE)
        value = (
            f"CASE WHEN lower({cell}) IN ({true}) THEN TRUE "
            f"WHEN lower({cell}) IN ({false}) THEN FALSE END"
        )
        check = row_check(f"{known} AND {value} IS NULL", ROW_NOT_TRUE_OR_FALSE_TEXT, d, name=name)
        return Decoded(value, (check,))
    if kind == "integer":
        ok = d.full_match(cell, CSV_INTEGER.pattern)
        value = f"CASE WHEN {ok} THEN {d.try_cast(cell, d.integer_type)} END"
        return Decoded(
            value,
            (
                row_check(f"{known} AND NOT {ok}", ROW_NOT_WHOLE, d, name=name),
                row_check(f"{known} AND {ok} AND {value} IS NULL", ROW_OUTSIDE_INT64, d, name=name),
            ),
        )
    if kind == "number":
        ok = d.full_match(cell, CSV_NUMBER.pattern)
        parsed = d.try_cast(cell, d.double_type)
        value = f"CASE WHEN {ok} AND {d.is_finite(parsed)} THEN {parsed} END"
        check = row_check(f"{known} AND {value} IS NULL", ROW_NOT_FINITE, d, name=name)
        return Decoded(value, (check,))
    if kind == "date":
        decoded = _date_from_text(d, name, cell, known)
        value = f"CASE WHEN {is_blank} THEN NULL ELSE {decoded.value} END"
        return dataclasses.replace(decoded, value=value)
    # set: items separated by SET_SEPARATOR, each trimmed; CSV_EMPTY_SET is the empty set
    items = d.map_list(d.split_text(cell, SET_SEPARATOR), "x", d.trim_blank)
    return Decoded(
        f"CASE WHEN {is_blank} THEN NULL WHEN {cell} = {d.string(CSV_EMPTY_SET)} "
        f"THEN {d.nonnull_list([])} ELSE {items} END"
    )


def csv_id(d: Dialect, column: str, id_column: str) -> Decoded:
    """A CSV id cell: its text as written, missing when blank."""
    is_blank = blank(d, column)
    return Decoded(
        f"CASE WHEN {is_blank} THEN NULL ELSE {column} END",
        (row_check(is_blank, ROW_NO_ID, d, column=id_column),),
    )


# --- JSON values ----------------------------------------------------------------------------


def json_kind(d: Dialect, json_type: str) -> str:
    """What a (non-null) JSON value is, as the ROW_JSON_* messages say it."""
    names = {kind: d.json_type_names[kind] for kind in ROW_JSON_KINDS}
    if all(len(n) == 1 for n in names.values()):
        branches = [
            f"WHEN {d.string(names[k][0])} THEN {d.string(t)}" for k, t in ROW_JSON_KINDS.items()
        ]
        return f"CASE {json_type} {' '.join(branches)} ELSE {d.string(ROW_JSON_KIND_OTHER)} END"
    branches = [
        f"WHEN {d.json_is(json_type, kind)} THEN {d.string(text)}"
        for kind, text in ROW_JSON_KINDS.items()
    ]
    return f"CASE {' '.join(branches)} ELSE {d.string(ROW_JSON_KIND_OTHER)} END"


def _plain_first(
    d: Dialect, kind: str, values: Sequence[str], value: str, full: Decoded
) -> Decoded:
    """`full`, read first the dialect's cheaper way where it applies (`Dialect.json_plain`):
    there the value is the same and no check can be true, so the full reading is skipped."""
    plain = d.json_plain(kind, values, value)
    if plain is None:
        return full
    applies, typed = plain
    return Decoded(
        f"CASE WHEN {applies} THEN {typed} ELSE {full.value} END",
        tuple(
            RowCheck(f"CASE WHEN {applies} THEN FALSE ELSE {check.condition} END", *check[1:])
            for check in full.checks
        ),
    )


def decode_json(d: Dialect, fact: m.Fact, value: str) -> Decoded:
    """A JSON value (NULL when the key is absent) -> the fact's column type, with the
    acceptance rules of `leukorules.engine.facts.validate_facts` (strict types)."""
    full = _decode_json(d, fact, value)
    return _plain_first(d, fact.type.kind, fact.type.values, value, full)


def _decode_json(d: Dialect, fact: m.Fact, value: str) -> Decoded:
    name, kind = fact.name, fact.type.kind
    t = d.json_type(value)
    known = f"({value} IS NOT NULL AND {d.json_is(t, 'null', negated=True)})"
    values = ", ".join(fact.type.values)

    def wrong(message: Message, accepted: str) -> RowCheck:
        condition = f"{known} AND NOT ({accepted})"
        return row_check(
            condition, message, d, name=name, values=values, kind=SQLExpr(json_kind(d, t))
        )

    if kind == "bool":
        accepted = d.json_is(t, "boolean")
        return Decoded(
            f"CASE WHEN {accepted} THEN {d.json_cast(value, d.boolean_type)} END",
            (wrong(ROW_JSON_NOT_BOOL, accepted),),
        )
    if kind == "integer":
        whole_text = d.full_match(d.json_number_text(value), JSON_WHOLE)
        integer = d.json_is(t, "integer")
        number = f"CASE WHEN {integer} THEN {d.json_cast(value, d.integer_type)} END"
        too_big = (
            f"(({integer} AND {number} IS NULL) OR ({d.json_is(t, 'double')} AND {whole_text}))"
        )
        return Decoded(
            number,
            (
                wrong(ROW_JSON_NOT_WHOLE, f"{integer} OR {too_big}"),
                row_check(f"{known} AND {too_big}", ROW_OUTSIDE_INT64, d, name=name),
            ),
        )
    if kind == "number":
        accepted = d.json_is(t, "integer", "double")
        number = d.json_cast(value, d.double_type)
        finite = d.is_finite(number)
        return Decoded(
            f"CASE WHEN {accepted} AND {finite} THEN {number} END",
            (
                wrong(ROW_JSON_NOT_NUMBER, accepted),
                row_check(f"{known} AND {accepted} AND NOT {finite}", ROW_NOT_FINITE, d, name=name),
            ),
        )
    if kind in ("enum", "string"):
        accepted = d.json_is(t, "string")
        message = ROW_JSON_NOT_TEXT if kind == "string" else ROW_JSON_NOT_ENUM
        return Decoded(
            f"CASE WHEN {accepted} THEN {d.json_text(value)} END", (wrong(message, accepted),)
        )
    if kind == "date":
        accepted = d.json_is(t, "string")
        text = f"CASE WHEN {accepted} THEN {d.json_text(value)} END"
        decoded = _date_from_text(d, name, text, f"{known} AND {accepted}")
        return Decoded(decoded.value, (*decoded.checks, wrong(ROW_JSON_NOT_DATE, accepted)))
    # set: a JSON array of strings
    accepted = d.json_is(t, "array")
    items = d.json_items(value)
    strings = d.filter_list(items, "e", lambda e: d.json_is(d.json_type(e), "string"))
    return Decoded(
        f"CASE WHEN {accepted} THEN {d.map_list(strings, 'e', d.json_text)} END",
        (
            wrong(ROW_JSON_NOT_SET, accepted),
            row_check(
                f"{known} AND {accepted} AND {d.list_length(strings)} < {d.list_length(items)}",
                ROW_SET_ITEM_NOT_ALLOWED,
                d,
                name=name,
                values=values,
            ),
        ),
    )


def json_id(d: Dialect, value: str, id_column: str) -> Decoded:
    """A JSON id: a non-blank string as written, or a whole number as its digits."""
    return _plain_first(d, "id", (), value, _json_id(d, value, id_column))


def _json_id(d: Dialect, value: str, id_column: str) -> Decoded:
    t = d.json_type(value)
    text = f"({d.json_text(value)})"
    string, integer = d.json_is(t, "string"), d.json_is(t, "integer")
    whole_text = d.full_match(d.json_number_text(value), JSON_WHOLE)
    whole = f"({integer} OR ({d.json_is(t, 'double')} AND {whole_text}))"
    wide = d.cast(d.json_cast(value, d.wide_integer_type), d.text_type)
    id_sql = (
        f"CASE WHEN {string} AND NOT {blank(d, text)} THEN {text} "
        f"WHEN {integer} THEN {wide} "
        f"WHEN {whole} THEN {d.json_number_text(value)} END"
    )
    absent = f"({value} IS NULL OR {d.json_is(t, 'null')} OR ({string} AND {blank(d, text)}))"
    return Decoded(
        id_sql,
        (
            row_check(absent, ROW_NO_ID, d, column=id_column),
            row_check(
                f"NOT {absent} AND NOT ({string} OR {whole})", ROW_BAD_ID, d, column=id_column
            ),
        ),
    )


def json_extra_keys(
    d: Dialect, keys: str, known: Sequence[str], derived: Sequence[str]
) -> list[RowCheck]:
    """Checks of a JSON object's keys (`keys`, a list): a derived fact given as input, a key
    that is neither `known` (the id and the input facts) nor derived. Each such key is named."""

    def each_key(keys_found: str, message: Message) -> RowCheck:
        reasons = d.map_list(keys_found, "k", lambda k: d.message(message, name=SQLExpr(k)))
        found = f"{d.list_length(keys_found)} > 0"
        return RowCheck(found, message.code, d.join_list(reasons, REASON_SEPARATOR))

    checks: list[RowCheck] = []
    not_known = f"k NOT IN ({', '.join(d.string(k) for k in known)})"
    if derived:
        in_derived = f"k IN ({', '.join(d.string(k) for k in derived)})"
        checks.append(each_key(d.filter_list(keys, "k", lambda k: in_derived), ROW_DERIVED_FACT))
        not_known += f" AND NOT ({in_derived})"
    checks.append(each_key(d.filter_list(keys, "k", lambda k: not_known), ROW_UNKNOWN_FACT))
    return checks


# --- Parquet columns ------------------------------------------------------------------------


def decode_parquet(d: Dialect, fact: m.Fact, column: str, arrow_kind: str) -> Decoded:
    """A typed Parquet column (`arrow_kind` as `leukorules.cohort.layout.arrow_kind` names its
    type, checked up front) -> the fact's column type."""
    name, kind = fact.name, fact.type.kind
    known = f"{column} IS NOT NULL"
    if kind == "integer":
        if arrow_kind == "integer":
            return Decoded(d.cast(column, d.integer_type))
        if arrow_kind == "unsigned":
            value = d.try_cast(column, d.integer_type)
            check = row_check(f"{known} AND {value} IS NULL", ROW_OUTSIDE_INT64, d, name=name)
            return Decoded(value, (check,))
        whole = f"({d.is_finite(column)} AND {d.is_whole(column)})"
        value = f"CASE WHEN {whole} THEN {d.try_cast(column, d.integer_type)} END"
        return Decoded(
            value,
            (
                row_check(f"{known} AND NOT {whole}", ROW_NOT_WHOLE, d, name=name),
                row_check(
                    f"{known} AND {whole} AND {value} IS NULL", ROW_OUTSIDE_INT64, d, name=name
                ),
            ),
        )
    if kind == "number":
        number = d.cast(column, d.double_type)
        return Decoded(
            f"CASE WHEN {d.is_finite(number)} THEN {number} END",
            (row_check(f"{known} AND NOT {d.is_finite(number)}", ROW_NOT_FINITE, d, name=name),),
        )
    if kind == "date":
        if arrow_kind == "date":
            return Decoded(d.cast(column, d.date_type))
        return _date_from_text(d, name, d.cast(column, d.text_type), known)
    if kind == "set":
        value = d.cast(column, d.set_type())
        nulls = d.filter_list(value, "x", lambda x: f"{x} IS NULL")
        return Decoded(
            value,
            (
                row_check(
                    f"{known} AND {d.list_length(nulls)} > 0",
                    ROW_SET_ITEM_NOT_ALLOWED,
                    d,
                    name=name,
                    values=", ".join(fact.type.values),
                ),
            ),
        )
    if kind == "bool":
        return Decoded(d.cast(column, d.boolean_type))
    return Decoded(d.cast(column, d.text_type))


def parquet_id(d: Dialect, column: str, arrow_kind: str, id_column: str) -> Decoded:
    """A Parquet id column (text or whole numbers): as text, missing when NULL or blank."""
    text = d.cast(column, d.text_type)
    if arrow_kind == "string":
        missing = blank(d, text)
        value = f"CASE WHEN {missing} THEN NULL ELSE {text} END"
    else:
        missing, value = f"{column} IS NULL", text
    return Decoded(value, (row_check(missing, ROW_NO_ID, d, column=id_column),))
