"""DuckDB's SQL dialect and connections: everything that knows DuckDB, except running a cohort.

Input: SQL requests from the shared compilers (`leukorules.cohort.sql`, `decode_sql`, `query`).
Output: DuckDB's spelling of them (`DuckDBDialect`), in-memory connections set up for the cohort
stream (`connect`), and an in-memory evaluation of typed patients for tests and benchmarks
(`evaluate_table`). The `duckdb` package is imported only when a connection is made, with an
installation hint when it is missing; the dialect itself needs nothing installed, so the SQL can
be printed anywhere. Running a cohort is `leukorules.cohort.duckdb_stream`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from leukorules import model as m
from leukorules.cohort.dialect import Dialect, ElementSQL, JSONKind
from leukorules.cohort.readers import CohortError
from leukorules.cohort.sql import compile_policy

if TYPE_CHECKING:
    import duckdb as duckdb_module

MISSING_MESSAGE = (
    "the duckdb engine needs the `{module}` package; install it with "
    "`pip install 'leukorules[cohort]'` (or use --engine python)"
)


class DuckDBDialect(Dialect):
    """DuckDB's spellings: lists with lambdas, RE2 regular expressions, its JSON extension."""

    name = "duckdb"
    wide_integer_type = "HUGEINT"
    result_shape = "flags"
    reads_text_files = True
    json_type_names: Mapping[JSONKind, tuple[str, ...]] = {
        "null": ("NULL",),
        "boolean": ("BOOLEAN",),
        # A JSON integer is UBIGINT when it is not negative, BIGINT when it is, and DOUBLE when
        # it is too large for either (its text still reads as a whole number).
        "integer": ("BIGINT", "UBIGINT"),
        "double": ("DOUBLE",),
        "string": ("VARCHAR",),
        "array": ("ARRAY",),
        "object": ("OBJECT",),
    }

    def set_type(self) -> str:
        return "VARCHAR[]"

    def enum_value(self, text: str, values: Sequence[str]) -> str | None:
        # An ENUM cast looks the text up once (exactly: case, spaces and all), and DuckDB casts
        # a Parquet column's dictionary, not each row; the rules then compare small integers.
        # The values are sorted so that two facts with the same values share one type (enum
        # facts are compared for equality only, never ordered).
        members = ", ".join(self.string(v) for v in sorted(values))
        return f"TRY_CAST({text} AS ENUM({members}))"

    def star_replacing(self, replacements: Sequence[tuple[str, str]]) -> str:
        replaced = ", ".join(f"{value} AS {name}" for name, value in replacements)
        return f"* REPLACE ({replaced})"

    def set_contains(self, column: str, element: str) -> str:
        return f"list_contains({column}, {element})"

    def join_nonnull(self, items: Sequence[str], separator: str) -> str:
        if not items:
            return self.null(self.text_type)
        return f"NULLIF(concat_ws({self.string(separator)}, {', '.join(items)}), '')"

    def try_cast(self, value: str, sql_type: str) -> str:
        return f"TRY_CAST({value} AS {sql_type})"

    def full_match(self, text: str, pattern: str) -> str:
        return f"regexp_full_match({text}, {self.string(pattern)})"

    def is_finite(self, number: str) -> str:
        return f"isfinite({number})"

    def trim_blank(self, text: str) -> str:
        return f"trim({text}, ' ' || chr(9))"

    def substring(self, text: str, start: int, length: int) -> str:
        return f"substr({text}, {start}, {length})"

    def count_character(self, text: str, character: str) -> str:
        # strlen counts bytes, which is all an ASCII character needs (and cheaper).
        return f"(strlen({text}) - strlen(replace({text}, {self.string(character)}, '')))"

    def list_of(self, items: Sequence[str]) -> str:
        return f"[{', '.join(items)}]"

    def list_length(self, items: str) -> str:
        return f"len({items})"

    def distinct_list(self, items: str) -> str:
        return f"list_distinct({items})"

    def filter_list(self, items: str, variable: str, keep: ElementSQL) -> str:
        return f"list_filter({items}, lambda {variable}: {keep(variable)})"

    def map_list(self, items: str, variable: str, each: ElementSQL) -> str:
        return f"list_transform({items}, lambda {variable}: {each(variable)})"

    def join_list(self, items: str, separator: str) -> str:
        return f"array_to_string({items}, {self.string(separator)})"

    def split_text(self, text: str, separator: str) -> str:
        return f"string_split({text}, {self.string(separator)})"

    def struct(self, members: Sequence[tuple[str, str]]) -> str:
        return f"struct_pack({', '.join(f'{member} := {value}' for member, value in members)})"

    def json_type(self, value: str) -> str:
        return f"json_type({value})"

    def json_text(self, value: str) -> str:
        return f"{value} ->> '$'"

    def json_items(self, value: str) -> str:
        return f"TRY_CAST({value} AS JSON[])"

    def json_fields(self, document: str, members: Sequence[tuple[str, str]]) -> str:
        # One transform of the document per line: DuckDB evaluates the repeated expression once.
        structure = json.dumps({key: "JSON" for _, key in members})
        transformed = f"json_transform({document}, {self.string(structure)})"
        return self.struct(
            [(member, f"{transformed}[{self.string(key)}]") for member, key in members]
        )

    def json_keys(self, document: str) -> str:
        return f"json_keys({document})"

    def json_plain(self, kind: str, values: Sequence[str], value: str) -> tuple[str, str] | None:
        # A JSON value here is the text DuckDB writes for it: `true`, `"text"` (escapes only
        # where needed), integers as digits, other numbers with a point or an exponent (or as
        # nan/inf). Compared as text, most values need no JSON function at all.
        text = f"CAST({value} AS VARCHAR)"
        absent = f"{value} IS NULL OR {text} = 'null'"
        unescaped = f"(starts_with({text}, '\"') AND NOT contains({text}, '\\'))"
        inside = f"substr({text}, 2, length({text}) - 2)"
        if kind == "bool":
            return (
                f"({value} IS NULL OR {text} IN ('true', 'false', 'null'))",
                f"CASE {text} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END",
            )
        if kind == "integer":
            number = f"TRY_CAST({text} AS BIGINT)"
            return (f"({absent} OR {text} = CAST({number} AS VARCHAR))", number)
        if kind == "number":
            number = f"TRY_CAST({text} AS DOUBLE)"
            return (f"({absent} OR isfinite({number}))", number)
        if kind == "enum":
            quoted = [self.string(json.dumps(v)) for v in values]
            branches = " ".join(
                f"WHEN {q} THEN {self.string(v)}" for q, v in zip(quoted, values, strict=True)
            )
            return (f"({absent} OR {text} IN ({', '.join(quoted)}))", f"CASE {text} {branches} END")
        if kind == "string":
            return (f"({absent} OR {unescaped})", f"CASE WHEN {unescaped} THEN {inside} END")
        if kind == "id":
            # A non-blank string: one that does not start with a space or a tab.
            blank_start = f"(starts_with({text}, '\" ') OR starts_with({text}, '\"' || chr(9)))"
            applies = f"({unescaped} AND strlen({text}) > 2 AND NOT {blank_start})"
            return (applies, inside)
        return None

    def parquet_rows(self, path: str, row_column: str) -> str:
        return (
            f"SELECT *, file_row_number + 1 AS {row_column} "
            f"FROM read_parquet({self.string(literal_path(path))}, file_row_number = true)"
        )

    def jsonl_file(self, path: str, line_column: str) -> str:
        # ignore_errors: a line DuckDB cannot read is a NULL row, in its place, not an error.
        return (
            f"SELECT json AS {line_column} FROM "
            f"read_ndjson_objects({self.string(literal_path(path))}, "
            "ignore_errors = true, compression = 'none')"
        )

    def csv_file(self, path: str, width: int) -> str:
        columns = ", ".join(f"'f{i}': 'VARCHAR'" for i in range(width))
        return (
            f"SELECT * FROM read_csv({self.string(literal_path(path))}, columns = {{{columns}}}, "
            "header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
            "strict_mode = true, null_padding = false, compression = 'none')"
        )

    def json_line_check(self, line: str, signs: str) -> str:
        # DuckDB's JSON reader reads any JSON value (the line's text, without the spaces around
        # it: an object starts with `{`) and accepts what Python's does not: NaN, Infinity (any
        # case, also as `nan` and `inf`), trailing commas, integers of more digits than Python
        # converts (640 to 4,300: `sys.set_int_max_str_digits`); and a line nested deeper than
        # Python's decoder goes. A trailing comma at the end of a line shows in its last
        # characters (a regular expression anchored at the end is cheap); the rest is looked
        # for in rows with a sign.
        end = self.string(r",\s*}$")
        lenient = self.string(r"(?i)[:,\[]\s*[-+]?(nan|inf)|,\s*[\]}]|[0-9]{600}")
        nested = f"strlen(replace(replace({line}, '[', ''), '{{', ''))"
        deep = f"(strlen({line}) >= 200 AND strlen({line}) - {nested} >= 100)"
        not_object = f"NOT starts_with({line}, '{{')"
        return (
            f"({not_object} OR regexp_matches({line}, {end}) OR CASE WHEN {signs} THEN "
            f"regexp_matches({line}, {lenient}) OR {deep} ELSE FALSE END)"
        )


# DuckDB's file readers take a path holding any of these as a glob pattern: `cohort[1].parquet`
# would read `cohort1.parquet`, `all*.parquet` every file it matches.
GLOB_CHARACTERS = frozenset("*?[")


def literal_path(path: str) -> str:
    """`path` spelled so that DuckDB's file readers (`read_parquet`, `read_json`, `read_csv`)
    read that one file, whatever its name holds. A path without `*`, `?` or `[` is not globbed
    and stays as it is; in one that has them, each is written as a one-character class (`[*]`,
    `[?]`, `[[]`), which matches only itself. Give an absolute path: DuckDB expands a leading
    `~` to the home folder.

    Inside a pattern DuckDB also reads a backslash as an escape, and no spelling matches a
    backslash itself: a path holding both a backslash and a glob character is refused
    (`CohortError`) rather than read as some other file."""
    if not GLOB_CHARACTERS.intersection(path):
        return path
    if "\\" in path:
        raise CohortError(
            f"the duckdb engine cannot read {path} as one file: DuckDB reads a name holding "
            "a backslash and one of * ? [ as a pattern; rename the file, or use --engine python"
        )
    return "".join(f"[{c}]" if c in GLOB_CHARACTERS else c for c in path)


def import_duckdb() -> Any:
    """The duckdb module, or ImportError with an installation hint. numpy, which the engine
    needs beside it (`duckdb_rules`), is checked here too: a missing one is said before any
    work is done."""
    for module in ("duckdb", "numpy"):
        try:
            __import__(module)
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise ImportError(MISSING_MESSAGE.format(module=module)) from error
    import duckdb

    return duckdb


# Settings that keep DuckDB's multi-threaded stream in scan order, so that results need not wait
# in memory to be put back in order (`duckdb_stream.in_row_order`):
# - DuckDB rewrites an `IN (...)` list of constants (an enum's allowed values, a rule's `in`) into
#   a hash join against the constants, and a hash join does not preserve insertion order: with
#   two threads the stream came out whole row groups apart, and up to a row group or more of
#   results waited (the amount grows with the cohort file's row-group size). Without the rewrite
#   the plan is a scan and projections, and `preserve_insertion_order` holds for the stream. The
#   lists are short, so evaluating them as expressions costs little.
# - An ordered stream lets a thread run ahead of the one producing the next rows only as far as
#   DuckDB's streaming buffer allows; at its default (10 MB) the second thread mostly waited
#   (1,000,000 patients took about 12.9 s against 9.4 s unordered). 100 MB gives back the
#   unordered speed and is a fixed bound, whatever the cohort (measured: +75 MiB peak RSS).
SCAN_ORDER_SETTINGS = (
    "SET disabled_optimizers = 'in_clause'",
    "SET streaming_buffer_size = '100MB'",
)


def connect(
    threads: int | None = None, memory_limit: str | None = None, scan_order: bool = True
) -> duckdb_module.DuckDBPyConnection:
    """An in-memory connection. `scan_order`: ask DuckDB to stream results in scan order (see
    SCAN_ORDER_SETTINGS); results are put back in order in any case, this only decides how much
    waits in memory for it."""
    duckdb = import_duckdb()
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {DuckDBDialect().string(memory_limit)}")
    con.execute("SET preserve_insertion_order = true")
    if scan_order:
        for statement in SCAN_ORDER_SETTINGS:
            # A DuckDB without this setting: in_row_order still restores the order, holding
            # more while it does.
            with contextlib.suppress(duckdb.Error):
                con.execute(statement)
    connection: duckdb_module.DuckDBPyConnection = con
    return connection


# --- in-memory evaluation (tests and benchmarks) -----------------------------------------------


def patients_table(policy: m.Policy, patients: Sequence[Mapping[str, object]]) -> Any:
    """Validated fact values (as `evaluate` takes them) -> an Arrow table of typed columns."""
    import pyarrow as pa  # type: ignore[import-untyped]

    from leukorules.cohort.schema import fact_arrow_type

    columns: dict[str, Any] = {"lr:row": pa.array(range(1, len(patients) + 1), pa.int64())}
    for fact in policy.input_facts:
        values: list[object] = []
        for patient in patients:
            value = patient.get(fact.name)
            if isinstance(value, frozenset | set):
                value = sorted(value)
            elif fact.type.kind == "number" and isinstance(value, int):
                value = float(value)
            values.append(value)
        columns[fact.name] = pa.array(values, fact_arrow_type(fact.type))
    return pa.table(columns)


def evaluate_table(
    policy: m.Policy, table: Any, con: duckdb_module.DuckDBPyConnection | None = None
) -> list[dict[str, Any]]:
    """Evaluate typed patients (see `patients_table`) in SQL: per patient, `outcomes` (rule id ->
    outcome), `derived` (fact -> value or None) and `missing` (set of (rule, fact))."""
    d = DuckDBDialect()
    own = con is None
    connection = con if con is not None else connect(threads=1)
    try:
        connection.register("lr_patients", table)
        compiled = compile_policy(policy, d, "lr_patients", missing="columns")
        select = [d.ident("lr:row")]
        select += [
            f"{compiled.outcome(c)} AS {d.ident('outcome:' + c.rule.id)}" for c in compiled.rules
        ]
        select += [f"{column} AS {column}" for column in compiled.derived.values()]
        select.append(f"{compiled.missing_pairs()} AS {d.ident('lr:missing')}")
        rows = connection.sql(compiled.query(select) + f" ORDER BY {d.ident('lr:row')}")
        names = rows.columns
        found = []
        for record in rows.fetchall():
            values = dict(zip(names, record, strict=True))
            found.append(
                {
                    "outcomes": {r.id: values["outcome:" + r.id] for r in policy.rules},
                    "derived": {f.name: values[f.name] for f in policy.derived_facts},
                    "missing": {tuple(pair.split(" ", 1)) for pair in values["lr:missing"] or []},
                }
            )
        connection.unregister("lr_patients")
        return found
    finally:
        if own:
            connection.close()
