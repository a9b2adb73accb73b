"""How SQL is spelled: standard SQL here, what an engine spells its own way in a subclass.

Input: names, values and SQL fragments from the shared compilers (`leukorules.cohort.sql` for the
policy, `leukorules.cohort.decode_sql` for cohort values, `leukorules.cohort.query` for the
query). Output: SQL text. A `Dialect` holds no semantics: every decision about what a policy or a
cohort row means is made by the shared compilers, which ask the dialect only how to write it.
Methods with a standard spelling are written here; the others (lists, regular expressions, JSON,
reading files) raise `SQLCompileError` until an engine's dialect supplies them, as
`leukorules.cohort.duckdb.DuckDBDialect` does for DuckDB.

Guarantees: identifiers are validated and quoted, every value is a typed literal and strings have
their quotes doubled: no text from a policy or a cohort file is ever spliced into SQL unescaped.
"""

from __future__ import annotations

import datetime
import math
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from leukorules import model as m
from leukorules.diagnostics import Message

# Column names are built from fact names (`[A-Za-z_][A-Za-z0-9_]*`) and rule ids (dotted names),
# prefixed for the columns the compiler adds; nothing else ever becomes an identifier.
_SAFE_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.:]*")

# The kinds of JSON value a dialect's `json_type` tells apart (each dialect names them its way).
JSONKind = str  # "null", "boolean", "integer", "double", "string", "array", "object"


class SQLCompileError(ValueError):
    """The policy uses something this SQL backend cannot express; the message says what."""


@dataclass(frozen=True, slots=True)
class SQLExpr:
    """A field of a message template whose value is an SQL expression, known only per row."""

    sql: str


# A function of an SQL expression (a list element, a lambda's variable) to an SQL expression.
ElementSQL = Callable[[str], str]


class Dialect:
    """Standard SQL spellings. A subclass supplies what the standard leaves open."""

    name = "standard"
    # How the query returns what the summary counts (`leukorules.cohort.query`): "lists" of
    # missing facts per row, or "flags", one boolean column per (rule, fact) pair and per fact.
    result_shape = "lists"
    # Whether the engine reads JSON Lines and CSV files itself (`jsonl_file`, `csv_file`);
    # otherwise the caller streams their records into the query.
    reads_text_files = False
    boolean_type = "BOOLEAN"
    integer_type = "BIGINT"
    double_type = "DOUBLE"
    date_type = "DATE"
    text_type = "VARCHAR"
    # Wide enough for any whole number a JSON id may hold.
    wide_integer_type = "DECIMAL(38, 0)"

    # --- names and values --------------------------------------------------------------------

    def ident(self, name: str) -> str:
        if not _SAFE_IDENTIFIER.fullmatch(name):
            raise SQLCompileError(f"{name!r} cannot be used as a column name")
        return '"' + name.replace('"', '""') + '"'

    def external_ident(self, name: str) -> str:
        """A column named by the cohort file (its id column): quoted, never validated as a fact."""
        if not name or any(ord(c) < 32 for c in name):
            raise SQLCompileError(f"{name!r} cannot be used as a column name")
        return '"' + name.replace('"', '""') + '"'

    def string(self, text: str) -> str:
        if "\x00" in text:
            raise SQLCompileError("a string containing a NUL character cannot be a SQL literal")
        return "'" + text.replace("'", "''") + "'"

    def boolean(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def integer(self, value: int) -> str:
        return str(int(value))

    def double(self, value: float) -> str:
        if not math.isfinite(value):
            raise SQLCompileError(f"{value!r} has no SQL literal")
        text = repr(float(value))
        # An approximate numeric literal (with an exponent) is a DOUBLE, never a DECIMAL.
        return text if "e" in text else text + "e0"

    def date(self, value: datetime.date) -> str:
        return f"DATE '{value.isoformat()}'"

    def literal(self, value: m.Value) -> str:
        match value:
            case bool():
                return self.boolean(value)
            case int():
                return self.integer(value)
            case float():
                return self.double(value)
            case str():
                return self.string(value)
            case datetime.date():
                return self.date(value)
        raise SQLCompileError(f"no SQL literal for {value!r}")  # pragma: no cover

    def column_type(self, fact_type: m.FactType) -> str:
        match fact_type.kind:
            case "bool":
                return self.boolean_type
            case "integer":
                return self.integer_type
            case "number":
                return self.double_type
            case "date":
                return self.date_type
            case "set":
                return self.set_type()
            case _:
                return self.text_type

    def message(self, message: Message, /, **fields: object) -> str:
        """A message's text as an SQL string expression. Fields given as `SQLExpr` are spliced
        in as SQL (their value is only known per row); the rest is one quoted literal."""
        parts: list[str] = []
        literal = ""
        for text, field, spec, _ in string.Formatter().parse(message.text):
            literal += text
            if field is None:
                continue
            value = fields[field]
            if isinstance(value, SQLExpr):
                if literal:
                    parts.append(self.string(literal))
                    literal = ""
                parts.append(value.sql)
            else:
                literal += format(value, spec or "")
        if literal or not parts:
            parts.append(self.string(literal))
        return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"

    # --- expressions with a standard spelling -------------------------------------------------

    def cast(self, value: str, sql_type: str) -> str:
        return f"CAST({value} AS {sql_type})"

    def null(self, sql_type: str) -> str:
        return f"CAST(NULL AS {sql_type})"

    def substring(self, text: str, start: int, length: int) -> str:
        return f"SUBSTRING({text} FROM {start} FOR {length})"

    def count_character(self, text: str, character: str) -> str:
        """How many times `character` occurs in `text`."""
        quoted = self.string(character)
        return f"(CHAR_LENGTH({text}) - CHAR_LENGTH(REPLACE({text}, {quoted}, '')))"

    def field(self, struct: str, member: str) -> str:
        """A member of a struct (row) value; `member` is already quoted."""
        return f"{struct}.{member}"

    def is_whole(self, number: str) -> str:
        """True when a finite floating-point number has no fractional part (of any size)."""
        return f"{number} = floor({number})"

    def number_text(self, number: str, kind: str) -> str:
        """A typed number (`kind`: "integer" or "number") as text, for a message; a double
        is written as Python's `repr` writes it (`500.0`, `1e+16`), as DuckDB does."""
        return self.cast(number, self.text_type)

    def set_outside(self, column: str, allowed: Sequence[str]) -> str:
        """True when a (non-NULL) set column holds an element outside `allowed`."""
        inside = ", ".join(self.string(v) for v in allowed)
        outside = self.filter_list(column, "x", lambda x: f"{x} NOT IN ({inside})")
        return f"{self.list_length(outside)} > 0"

    def enum_value(self, text: str, values: Sequence[str]) -> str | None:
        """`text` (an enum fact's value) as a value of a type holding only the enum's `values`,
        NULL when it is not one of them; None: the dialect has no such type, and enum facts stay
        text, checked and compared value by value. With one, a single lookup checks a value and
        the rules compare small integers (`DuckDBDialect.enum_value`)."""
        return None

    def star_replacing(self, replacements: Sequence[tuple[str, str]]) -> str:
        """`*` with the columns named (quoted) in `replacements` replaced by the expressions."""
        raise self._missing("replace columns of `*`")

    def nonnull_list(self, items: Sequence[str]) -> str:
        """A list value of the non-NULL items, in order."""
        if not items:
            return self.cast(self.list_of([]), self.set_type())
        return self.filter_list(self.list_of(items), "x", lambda x: f"{x} IS NOT NULL")

    def where_list(self, names: Sequence[str], conditions: Sequence[str]) -> str:
        """A list of the `names` (text) whose condition is true (not false, not NULL), in order:
        the rules that fired, the rules left undetermined."""
        return self.nonnull_list(
            [
                f"CASE WHEN {condition} THEN {self.string(name)} END"
                for name, condition in zip(names, conditions, strict=True)
            ]
        )

    # --- what standard SQL has no portable spelling for ---------------------------------------

    def _missing(self, what: str) -> SQLCompileError:
        return SQLCompileError(f"the {self.name} SQL dialect cannot {what}")

    def set_type(self) -> str:
        raise self._missing("store a set (list) of values")

    def set_contains(self, column: str, element: str) -> str:
        raise self._missing("test set membership")

    def join_nonnull(self, items: Sequence[str], separator: str) -> str:
        """The non-NULL strings joined with `separator`, NULL when all are NULL."""
        raise self._missing("join strings")

    def try_cast(self, value: str, sql_type: str) -> str:
        """`value` as `sql_type`, NULL where it cannot be converted."""
        raise self._missing("try a conversion")

    def full_match(self, text: str, pattern: str) -> str:
        """True when the whole of `text` matches the regular expression `pattern`."""
        raise self._missing("match regular expressions")

    def is_finite(self, number: str) -> str:
        raise self._missing("test numbers for infinity")

    def trim_blank(self, text: str) -> str:
        """`text` without leading and trailing spaces and tabs."""
        raise self._missing("trim tabs")

    def list_of(self, items: Sequence[str]) -> str:
        raise self._missing("build a list")

    def list_length(self, items: str) -> str:
        raise self._missing("measure a list")

    def distinct_list(self, items: str) -> str:
        """The list without repeated elements, first occurrences kept in order."""
        raise self._missing("remove repeated list elements")

    def filter_list(self, items: str, variable: str, keep: ElementSQL) -> str:
        """The elements `e` of the list for which `keep(e)` is true, in order (`variable`
        names the element where the dialect needs a name)."""
        raise self._missing("filter a list")

    def map_list(self, items: str, variable: str, each: ElementSQL) -> str:
        """The list of `each(e)` for every element `e` of the list, in order."""
        raise self._missing("transform a list")

    def join_list(self, items: str, separator: str) -> str:
        """The list's strings joined with `separator`."""
        raise self._missing("join a list")

    def split_text(self, text: str, separator: str) -> str:
        """A list of the parts of `text` between occurrences of `separator`."""
        raise self._missing("split text")

    def struct(self, members: Sequence[tuple[str, str]]) -> str:
        """A struct (row) value: (member, already quoted; its value)."""
        raise self._missing("build a struct")

    # JSON values (the JSON Lines cohort) and reading files.

    json_type_names: Mapping[JSONKind, tuple[str, ...]] = {}

    def json_type(self, value: str) -> str:
        """The type of a JSON value, as one of the names in `json_type_names`."""
        raise self._missing("tell JSON types apart")

    def json_is(self, json_type: str, *kinds: JSONKind, negated: bool = False) -> str:
        """True when `json_type` (from `json_type`) is one of `kinds` (or none, `negated`)."""
        names = [self.string(n) for kind in kinds for n in self.json_type_names[kind]]
        if len(names) == 1:
            return f"{json_type} {'<>' if negated else '='} {names[0]}"
        return f"{json_type} {'NOT IN' if negated else 'IN'} ({', '.join(names)})"

    def json_cast(self, value: str, sql_type: str) -> str:
        """A JSON value (a boolean or a number) as `sql_type`, NULL where it cannot be."""
        return self.try_cast(value, sql_type)

    def json_number_text(self, value: str) -> str:
        """A JSON number's text as written in the document (integers: every digit)."""
        return self.cast(value, self.text_type)

    def json_text(self, value: str) -> str:
        """A JSON string's text (NULL for other values)."""
        raise self._missing("read JSON strings")

    def json_plain(self, kind: str, values: Sequence[str], value: str) -> tuple[str, str] | None:
        """A cheaper reading of the JSON values most records hold, for a fact of `kind` (and
        `values`, an enum's) or the id (`kind` "id"): SQL true where `value` (NULL when
        absent) is one it reads, and its typed value there; None: every value is read by the
        full rules (`leukorules.cohort.decode_sql`). Where it reads a value, the full rules
        would give the same value and find no problem."""
        return None

    def json_items(self, value: str) -> str:
        """A JSON array as a list of JSON values."""
        raise self._missing("read JSON arrays")

    def json_fields(self, document: str, members: Sequence[tuple[str, str]]) -> str:
        """A struct of the JSON values of a document's keys, NULL where a key is absent:
        `members` pairs the struct member (quoted) with the document's key."""
        raise self._missing("read JSON documents")

    def json_keys(self, document: str) -> str:
        """A list of a JSON object's keys as written, repeated keys repeated."""
        raise self._missing("list JSON keys")

    def parquet_rows(self, path: str, row_column: str) -> str:
        """A query of every column of a Parquet file plus `row_column` (quoted): the row's
        number in the file, counting from 1."""
        raise self._missing("read Parquet files")

    def jsonl_file(self, path: str, line_column: str) -> str:
        """A query of a JSON Lines file: one row per line that is not blank, in file order, its
        JSON text as `line_column` (quoted), NULL where this engine cannot read it as JSON."""
        raise self._missing("read JSON Lines files")

    def csv_file(self, path: str, width: int) -> str:
        """A query of a CSV file's records after its header, in file order: the i-th field of
        each as text column `f<i>`, for i below `width` (the header's number of fields)."""
        raise self._missing("read CSV files")

    def json_line_check(self, line: str, signs: str) -> str:
        """True where this engine's JSON reader may have read a line (`line`, never NULL here)
        otherwise than a strict parser of JSON objects would: the engine then reads the line
        again itself. `signs`: true where the row has a problem, a list value or a key the
        query left out. A strict reader of objects needs no second look at the lines it read."""
        return "FALSE"
