"""Everything DuckDB-specific: the SQL dialect, decoding raw cohort values, the connection.

Input: the standard SQL of `leukorules.cohort.sql` plus cohort batches from the readers.
Output: evaluated rows as Arrow record batches, streamed. Nothing outside this module imports
duckdb or writes DuckDB-only SQL, so a second engine (e.g. Spark SQL) needs a sibling of this file
and nothing else.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from leukorules import model as m
from leukorules.cohort.decode import Layout, arrow_kind, json_object_problem
from leukorules.cohort.readers import MALFORMED, CohortReader, Problem
from leukorules.cohort.schema import results_schema
from leukorules.cohort.sql import Dialect, compile_policy, value_checks
from leukorules.cohort.summary import Counts
from leukorules.diagnostics import Code

if TYPE_CHECKING:
    import duckdb as duckdb_module

MISSING_MESSAGE = (
    "the duckdb engine needs the `duckdb` package; install it with "
    "`pip install 'leukorules[cohort]'` (or use --engine python)"
)


class DuckDBDialect(Dialect):
    name = "duckdb"

    def set_type(self) -> str:
        return "VARCHAR[]"

    def set_contains(self, column: str, element: str) -> str:
        return f"list_contains({column}, {element})"

    def set_outside(self, column: str, allowed: Sequence[str]) -> str:
        inside = ", ".join(self.string(v) for v in allowed)
        return f"len(list_filter({column}, lambda x: x NOT IN ({inside}))) > 0"

    def nonnull_list(self, items: Sequence[str]) -> str:
        if not items:
            return "CAST([] AS VARCHAR[])"
        return f"list_filter([{', '.join(items)}], lambda x: x IS NOT NULL)"

    def join_nonnull(self, items: Sequence[str], separator: str) -> str:
        if not items:
            return "CAST(NULL AS VARCHAR)"
        return f"NULLIF(concat_ws({self.string(separator)}, {', '.join(items)}), '')"


def import_duckdb() -> Any:
    """The duckdb module, or ImportError with an installation hint."""
    try:
        import duckdb
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError(MISSING_MESSAGE) from error
    return duckdb


# Settings that keep DuckDB's multi-threaded stream in scan order, so that results need not wait
# in memory to be put back in order (`in_row_order`):
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


# --- decoding raw cohort values to typed columns -----------------------------------------------

NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
INTEGER_PATTERN = r"[+-]?[0-9]+"
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
JSON_KIND = (
    "CASE {t} WHEN 'VARCHAR' THEN 'text' WHEN 'BOOLEAN' THEN 'true/false' "
    "WHEN 'ARRAY' THEN 'a list' WHEN 'OBJECT' THEN 'a mapping' ELSE 'a number' END"
)


@dataclass
class Decoded:
    """A fact's typed value and the problems decoding found, as SQL over the raw relation."""

    value: str
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (condition, code, text)


def _blank(text: str) -> str:
    return f"({text} IS NULL OR trim({text}, ' ' || chr(9)) = '')"


def _trimmed(text: str) -> str:
    return f"trim({text}, ' ' || chr(9))"


def _date_from_text(d: DuckDBDialect, name: str, text: str, known: str) -> Decoded:
    ok = f"(regexp_full_match({text}, {d.string(DATE_PATTERN)}) AND substr({text}, 1, 4) <> '0000')"
    value = f"CASE WHEN {ok} THEN TRY_CAST({text} AS DATE) END"
    return Decoded(
        value,
        [
            (
                f"{known} AND NOT regexp_full_match({text}, {d.string(DATE_PATTERN)})",
                Code.LR503,
                d.string(f"`{name}` must be a date written YYYY-MM-DD"),
            ),
            (
                f"{known} AND regexp_full_match({text}, {d.string(DATE_PATTERN)}) "
                f"AND {value} IS NULL",
                Code.LR503,
                d.string(f"`{name}` is not a calendar date"),
            ),
        ],
    )


def decode_csv(d: DuckDBDialect, fact: m.Fact, column: str) -> Decoded:
    """A CSV cell (VARCHAR) -> the fact's column type, by the rules of `cohort.decode.csv_value`."""
    name, kind = fact.name, fact.type.kind
    blank = _blank(column)
    cell = _trimmed(column)
    known = f"NOT {blank}"
    if kind == "string":
        return Decoded(f"CASE WHEN {blank} THEN NULL ELSE {column} END")
    if kind == "enum":
        return Decoded(f"CASE WHEN {blank} THEN NULL ELSE {cell} END")
    if kind == "bool":
        value = (
            f"CASE WHEN lower({cell}) IN ('true', 'yes', '1') THEN TRUE "
            f"WHEN lower({cell}) IN ('false', 'no', '0') THEN FALSE END"
        )
        return Decoded(
            value,
            [
                (
                    f"{known} AND {value} IS NULL",
                    Code.LR503,
                    d.string(f"`{name}` must be true or false (true/false, yes/no, 1/0)"),
                )
            ],
        )
    if kind == "integer":
        ok = f"regexp_full_match({cell}, {d.string(INTEGER_PATTERN)})"
        value = f"CASE WHEN {ok} THEN TRY_CAST({cell} AS BIGINT) END"
        return Decoded(
            value,
            [
                (f"{known} AND NOT {ok}", Code.LR503, d.string(f"`{name}` must be a whole number")),
                (
                    f"{known} AND {ok} AND {value} IS NULL",
                    Code.LR505,
                    d.string(f"`{name}` is outside the 64-bit integer range"),
                ),
            ],
        )
    if kind == "number":
        ok = f"regexp_full_match({cell}, {d.string(NUMBER_PATTERN)})"
        parsed = f"TRY_CAST({cell} AS DOUBLE)"
        value = f"CASE WHEN {ok} AND isfinite({parsed}) THEN {parsed} END"
        return Decoded(
            value,
            [
                (
                    f"{known} AND {value} IS NULL",
                    Code.LR503,
                    d.string(f"`{name}` must be a finite number"),
                )
            ],
        )
    if kind == "date":
        decoded = _date_from_text(d, name, cell, known)
        decoded.value = f"CASE WHEN {blank} THEN NULL ELSE {decoded.value} END"
        return decoded
    # set
    value = (
        f"CASE WHEN {blank} THEN NULL WHEN {cell} = '[]' THEN CAST([] AS VARCHAR[]) "
        f"ELSE list_transform(string_split({cell}, ';'), lambda x: {_trimmed('x')}) END"
    )
    return Decoded(value)


def decode_json(d: DuckDBDialect, fact: m.Fact, value: str) -> Decoded:
    """A JSON value (or NULL when the key is absent) -> the fact's column type, with the
    acceptance rules of `leukorules.engine.facts.validate_facts` (strict types)."""
    name, kind = fact.name, fact.type.kind
    t = f"json_type({value})"
    known = f"({value} IS NOT NULL AND {t} <> 'NULL')"
    what = JSON_KIND.format(t=t)

    def wrong(expected: str, accepted: str) -> tuple[str, str, str]:
        return (
            f"{known} AND NOT ({accepted})",
            Code.LR503,
            f"({d.string(f'`{name}` must be {expected}; it is ')} || {what})",
        )

    if kind == "bool":
        accepted = f"{t} = 'BOOLEAN'"
        return Decoded(
            f"CASE WHEN {accepted} THEN TRY_CAST({value} AS BOOLEAN) END",
            [wrong("true or false", accepted)],
        )
    if kind == "integer":
        # DuckDB types a JSON integer UBIGINT when it is not negative, BIGINT when it is, and
        # DOUBLE when it is too large for either (its text still reads as a whole number).
        whole_text = f"regexp_full_match(CAST({value} AS VARCHAR), '-?[0-9]+')"
        integer = f"{t} IN ('BIGINT', 'UBIGINT')"
        number = f"CASE WHEN {integer} THEN TRY_CAST({value} AS BIGINT) END"
        too_big = f"(({integer} AND {number} IS NULL) OR ({t} = 'DOUBLE' AND {whole_text}))"
        return Decoded(
            number,
            [
                wrong("a whole number", f"{integer} OR {too_big}"),
                (
                    f"{known} AND {too_big}",
                    Code.LR505,
                    d.string(f"`{name}` is outside the 64-bit integer range"),
                ),
            ],
        )
    if kind == "number":
        accepted = f"{t} IN ('BIGINT', 'UBIGINT', 'DOUBLE')"
        number = f"TRY_CAST({value} AS DOUBLE)"
        return Decoded(
            f"CASE WHEN {accepted} AND isfinite({number}) THEN {number} END",
            [
                wrong("a finite number", accepted),
                (
                    f"{known} AND {accepted} AND NOT isfinite({number})",
                    Code.LR503,
                    d.string(f"`{name}` must be a finite number"),
                ),
            ],
        )
    if kind in ("enum", "string"):
        accepted = f"{t} = 'VARCHAR'"
        expected = "text" if kind == "string" else "one of: " + ", ".join(fact.type.values)
        return Decoded(
            f"CASE WHEN {accepted} THEN {value} ->> '$' END", [wrong(expected, accepted)]
        )
    if kind == "date":
        accepted = f"{t} = 'VARCHAR'"
        text = f"CASE WHEN {accepted} THEN {value} ->> '$' END"
        decoded = _date_from_text(d, name, text, f"{known} AND {accepted}")
        decoded.problems.append(wrong("a date written YYYY-MM-DD", accepted))
        return decoded
    # set: a JSON array of strings
    accepted = f"{t} = 'ARRAY'"
    items = f"TRY_CAST({value} AS JSON[])"
    strings = f"list_filter({items}, lambda e: json_type(e) = 'VARCHAR')"
    values = ", ".join(fact.type.values)
    return Decoded(
        f"CASE WHEN {accepted} THEN list_transform({strings}, lambda e: e ->> '$') END",
        [
            wrong("a list of values from: " + values, accepted),
            (
                f"{known} AND {accepted} AND len({strings}) < len({items})",
                Code.LR503,
                d.string(f"an item of `{name}` is not one of: {values}"),
            ),
        ],
    )


def decode_parquet(d: DuckDBDialect, fact: m.Fact, column: str, arrow_kind: str) -> Decoded:
    """A typed Parquet column -> the fact's column type (types were checked up front)."""
    name, kind = fact.name, fact.type.kind
    known = f"{column} IS NOT NULL"
    if kind == "integer":
        if arrow_kind == "integer":
            return Decoded(f"CAST({column} AS BIGINT)")
        if arrow_kind == "unsigned":
            value = f"TRY_CAST({column} AS BIGINT)"
            return Decoded(
                value,
                [
                    (
                        f"{known} AND {value} IS NULL",
                        Code.LR505,
                        d.string(f"`{name}` is outside the 64-bit integer range"),
                    )
                ],
            )
        whole = f"(isfinite({column}) AND {column} = floor({column}))"
        value = f"CASE WHEN {whole} THEN TRY_CAST({column} AS BIGINT) END"
        return Decoded(
            value,
            [
                (
                    f"{known} AND NOT {whole}",
                    Code.LR503,
                    d.string(f"`{name}` must be a whole number"),
                ),
                (
                    f"{known} AND {whole} AND {value} IS NULL",
                    Code.LR505,
                    d.string(f"`{name}` is outside the 64-bit integer range"),
                ),
            ],
        )
    if kind == "number":
        number = f"CAST({column} AS DOUBLE)"
        return Decoded(
            f"CASE WHEN isfinite({number}) THEN {number} END",
            [
                (
                    f"{known} AND NOT isfinite({number})",
                    Code.LR503,
                    d.string(f"`{name}` must be a finite number"),
                )
            ],
        )
    if kind == "date":
        if arrow_kind == "date":
            return Decoded(f"CAST({column} AS DATE)")
        return _date_from_text(d, name, f"CAST({column} AS VARCHAR)", known)
    if kind == "set":
        value = f"CAST({column} AS VARCHAR[])"
        return Decoded(
            value,
            [
                (
                    f"{known} AND len(list_filter({value}, lambda x: x IS NULL)) > 0",
                    Code.LR503,
                    d.string(f"an item of `{name}` is not one of: {', '.join(fact.type.values)}"),
                )
            ],
        )
    if kind == "bool":
        return Decoded(f"CAST({column} AS BOOLEAN)")
    return Decoded(f"CAST({column} AS VARCHAR)")


def external_column(name: str) -> str:
    """A column named by the cohort file (the id column): quoted, never validated as a fact."""
    if not name or any(ord(c) < 32 for c in name):
        raise ValueError(f"{name!r} cannot be used as a column name")
    return '"' + name.replace('"', '""') + '"'


# --- the run ---------------------------------------------------------------------------------


@dataclass
class OutputBatch:
    results: Any  # pyarrow RecordBatch: row, id, fired, undetermined[, derived]
    problems: list[Problem]
    counts: Counts


def _counter(array: Any) -> Counter[str]:
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    found: Counter[str] = Counter()
    if len(array) == 0:
        return found
    counted = pc.value_counts(array)
    for value, count in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        if value is not None:
            found[value] = count
    return found


# Rows per Arrow batch fetched from DuckDB. DuckDB's Arrow stream holds several batches in flight
# (converted, buffered and being filled, per thread), and each batch here is then counted, cut,
# filtered and cast before it is written: memory grows with this number, not with the cohort.
# Measured on the bundled policy, 1,000,000-row Parquet cohort, 2 threads, stream not in scan
# order: DuckDB's stream alone peaked at about 290 MiB of RSS with 10,000 rows against 550 MiB
# with 50,000, at the same speed.
BATCH_ROWS = 10_000
# Rows per output batch (at least; a row group of a Parquet results file): batches from DuckDB
# are gathered to this size after they are counted and put in order, so that results files keep
# row groups of the size they had when DuckDB's batches were this large.
OUTPUT_ROWS = 50_000


@dataclass
class Waiting:
    """Rows `in_row_order` holds back until the rows before them arrive: now and at most."""

    rows: int = 0
    peak: int = 0


class DuckDBRun:
    """Decode, validate and evaluate a cohort in one streaming DuckDB query."""

    def __init__(
        self,
        policy: m.Policy,
        layout: Layout,
        reader: CohortReader,
        threads: int | None = None,
        memory_limit: str | None = None,
        batch_rows: int = BATCH_ROWS,
        scan_order: bool = True,
        output_rows: int = OUTPUT_ROWS,
    ) -> None:
        self.policy = policy
        self.layout = layout
        self.reader = reader
        self.threads = threads
        self.memory_limit = memory_limit
        self.batch_rows = batch_rows
        self.scan_order = scan_order
        self.output_rows = output_rows
        self.waiting = Waiting()  # rows held back to be put in order (for tests and benchmarks)
        self.dialect = DuckDBDialect()
        self.compiled = compile_policy(policy, self.dialect, d_ident("lr:checked"), missing=True)
        self._pending: deque[Problem] = deque()
        self._structural = 0
        self._stream_schema: Any = None
        self._early = Counts()  # counted as batches arrive, reported with the next output

    # --- the source relation

    def _arrow_stream(self) -> Any:
        """CSV and JSON Lines: records from the shared reader, as an Arrow stream DuckDB pulls."""
        import pyarrow as pa

        layout = self.layout
        if layout.format == "jsonl":
            schema = pa.schema([("lr:row", pa.int64()), ("lr:line", pa.string())])
        else:
            fields = [("lr:row", pa.int64()), ("lr:id_raw", pa.string())]
            fields += [(f"c{i}", pa.string()) for i in range(len(layout.fact_columns))]
            schema = pa.schema(fields)

        def batches() -> Iterator[Any]:
            for raw in self.reader.batches():
                self._structural += len(raw.problems)
                problems = list(raw.problems)
                if layout.format == "jsonl":
                    rows, lines = [], []
                    for row, line in zip(raw.rows, raw.payload, strict=True):
                        reason = json_object_problem(line)
                        if reason is None:
                            rows.append(row)
                            lines.append(line)
                        else:
                            problems.append(Problem(row, None, MALFORMED, reason))
                            self._structural += 1
                    arrays = [pa.array(rows, pa.int64()), pa.array(lines, pa.string())]
                else:
                    assert layout.columns is not None
                    columns = list(zip(*raw.payload, strict=True)) if raw.payload else []
                    picks = [layout.columns.index(layout.id_column)]
                    picks += [layout.columns.index(n) for n in layout.fact_columns]
                    arrays = [pa.array(raw.rows, pa.int64())]
                    for index in picks:
                        values = columns[index] if columns else []
                        arrays.append(pa.array(values, pa.string()))
                problems.sort(key=lambda p: p.row)
                self._pending.extend(problems)
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)

        return pa.RecordBatchReader.from_batches(schema, batches())

    def _typed_select(self) -> str:
        """The `lr:typed` relation: row, id, one typed column per input fact, and problems."""
        d = self.dialect
        layout = self.layout
        fmt = layout.format
        columns: list[str] = [f"{d_ident('lr:row')}"]
        problems: list[tuple[str, str, str]] = []
        present = set(layout.fact_columns)
        if fmt == "jsonl":
            columns.append(d_ident("lr:keys"))
            obj = d_ident("lr:obj")
            id_value = f"{obj}.{d_ident('lr:id')}"
            columns.append(f"{self._json_id(id_value, problems)} AS {d_ident('lr:id')}")
            for fact in self.policy.input_facts:
                decoded = decode_json(d, fact, f"{obj}.{d.ident(fact.name)}")
                columns.append(f"{decoded.value} AS {d.ident(fact.name)}")
                problems.extend(decoded.problems)
            if not layout.ignore_extra:
                problems.extend(self._json_extra_keys())
        else:
            if fmt == "csv":
                raw_id = d_ident("lr:id_raw")
                id_sql = f"CASE WHEN {_blank(raw_id)} THEN NULL ELSE {raw_id} END"
                missing_id = f"{_blank(raw_id)}"
            else:
                id_column = external_column(layout.id_column)
                kind = arrow_kind(self.reader.arrow_schema.field(layout.id_column).type)
                if kind == "string":
                    text = f"CAST({id_column} AS VARCHAR)"
                    id_sql = f"CASE WHEN {_blank(text)} THEN NULL ELSE {text} END"
                    missing_id = _blank(text)
                else:
                    id_sql = f"CAST({id_column} AS VARCHAR)"
                    missing_id = f"{id_column} IS NULL"
            columns.append(f"{id_sql} AS {d_ident('lr:id')}")
            problems.append(
                (missing_id, MALFORMED, d.string(f"the record has no `{layout.id_column}`"))
            )
            for fact in self.policy.input_facts:
                if fact.name not in present:
                    columns.append(
                        f"CAST(NULL AS {d.column_type(fact.type)}) AS {d.ident(fact.name)}"
                    )
                    continue
                if fmt == "csv":
                    position = layout.fact_columns.index(fact.name)
                    decoded = decode_csv(d, fact, d_ident(f"c{position}"))
                else:
                    kind = arrow_kind(self.reader.arrow_schema.field(fact.name).type)
                    decoded = decode_parquet(d, fact, d.ident(fact.name), kind)
                columns.append(f"{decoded.value} AS {d.ident(fact.name)}")
                problems.extend(decoded.problems)
        for number, (condition, code, text) in enumerate(problems):
            columns.append(
                f"CASE WHEN {condition} THEN {d.string(code)} END AS {d_ident(f'lr:c{number}')}"
            )
            columns.append(f"CASE WHEN {condition} THEN {text} END AS {d_ident(f'lr:m{number}')}")
        self._decode_problems = len(problems)
        return ",\n  ".join(columns)

    def _json_id(self, value: str, problems: list[tuple[str, str, str]]) -> str:
        d = self.dialect
        t = f"json_type({value})"
        text = f"({value} ->> '$')"
        whole_text = f"regexp_full_match(CAST({value} AS VARCHAR), '-?[0-9]+')"
        whole = f"({t} IN ('BIGINT', 'UBIGINT') OR ({t} = 'DOUBLE' AND {whole_text}))"
        id_sql = (
            f"CASE WHEN {t} = 'VARCHAR' AND NOT {_blank(text)} THEN {text} "
            f"WHEN {t} IN ('BIGINT', 'UBIGINT') THEN CAST(TRY_CAST({value} AS HUGEINT) AS VARCHAR) "
            f"WHEN {whole} THEN CAST({value} AS VARCHAR) END"
        )
        column = self.layout.id_column
        absent = f"({value} IS NULL OR {t} = 'NULL' OR ({t} = 'VARCHAR' AND {_blank(text)}))"
        problems.append((absent, MALFORMED, d.string(f"the record has no `{column}`")))
        problems.append(
            (
                f"NOT {absent} AND NOT ({t} = 'VARCHAR' OR {whole})",
                MALFORMED,
                d.string(f"`{column}` must be text or a whole number"),
            )
        )
        return id_sql

    def _json_extra_keys(self) -> list[tuple[str, str, str]]:
        d = self.dialect
        keys = d_ident("lr:keys")
        known = [self.layout.id_column, *(f.name for f in self.policy.input_facts)]
        derived = [f.name for f in self.policy.derived_facts]
        not_known = f"k NOT IN ({', '.join(d.string(k) for k in known)})"
        found: list[tuple[str, str, str]] = []
        if derived:
            in_derived = f"k IN ({', '.join(d.string(k) for k in derived)})"
            derived_keys = f"list_filter({keys}, lambda k: {in_derived})"
            found.append(
                (
                    f"len({derived_keys}) > 0",
                    Code.LR506,
                    f"array_to_string(list_transform({derived_keys}, lambda k: '`' || k || "
                    "'` is a derived fact; the policy''s rules derive it from other facts'), "
                    "'; ')",
                )
            )
            not_known += f" AND NOT ({in_derived})"
        unknown = f"list_filter({keys}, lambda k: {not_known})"
        found.append(
            (
                f"len({unknown}) > 0",
                Code.LR502,
                f"array_to_string(list_transform({unknown}, lambda k: '`' || k || "
                f"'` is not a fact of this policy'), '; ')",
            )
        )
        return found

    def query(self) -> str:
        d = self.dialect
        layout = self.layout
        fmt = layout.format
        ctes: list[tuple[str, str]] = []
        if fmt == "parquet":
            path = d.string(str(self.reader.path))
            ctes.append(
                (
                    d_ident("lr:source"),
                    f"SELECT *, file_row_number + 1 AS {d_ident('lr:row')} "
                    f"FROM read_parquet({path}, file_row_number = true)",
                )
            )
        elif fmt == "jsonl":
            # One parse per line: every key this policy reads, as raw JSON values (NULL when
            # absent). The struct is rebuilt with the id renamed to `lr:id`, so that it cannot
            # collide with a fact.
            keys = [layout.id_column, *(f.name for f in self.policy.input_facts)]
            structure = json.dumps({key: "JSON" for key in keys})
            transformed = f"json_transform({d_ident('lr:line')}, {d.string(structure)})"
            members = [f"{d_ident('lr:id')} := {transformed}[{d.string(layout.id_column)}]"]
            members += [
                f"{d.ident(f.name)} := {transformed}[{d.string(f.name)}]"
                for f in self.policy.input_facts
            ]
            ctes.append(
                (
                    d_ident("lr:source"),
                    f"SELECT {d_ident('lr:row')}, struct_pack({', '.join(members)}) AS "
                    f"{d_ident('lr:obj')}, json_keys({d_ident('lr:line')}) AS {d_ident('lr:keys')}"
                    "\nFROM lr_stream",
                )
            )
        else:
            ctes.append((d_ident("lr:source"), "SELECT * FROM lr_stream"))
        ctes.append(
            (d_ident("lr:typed"), f"SELECT {self._typed_select()}\nFROM {d_ident('lr:source')}")
        )
        codes = [d_ident(f"lr:c{n}") for n in range(self._decode_problems)]
        texts = [d_ident(f"lr:m{n}") for n in range(self._decode_problems)]
        for fact in self.policy.input_facts:
            for condition, code, text in value_checks(fact, d.ident(fact.name), d):
                codes.append(f"CASE WHEN {condition} THEN {d.string(code)} END")
                texts.append(f"CASE WHEN {condition} THEN {text} END")
        code_list = f"list_distinct({d.nonnull_list(codes)})"
        reason = d.join_nonnull(texts, "; ")
        if fmt == "jsonl":
            # A key given twice makes the line unreadable as one patient, as for the python
            # engine's reader: that alone is reported.
            key_list = d_ident("lr:keys")
            twice = f"len({key_list}) <> len(list_distinct({key_list}))"
            code_list = f"CASE WHEN {twice} THEN [{d.string(MALFORMED)}] ELSE {code_list} END"
            reason = f"CASE WHEN {twice} THEN {d.string('a key is given twice')} ELSE {reason} END"
        ctes.append(
            (
                d_ident("lr:checked"),
                f"SELECT *, {code_list} AS {d_ident('lr:codes')}, "
                f"{reason} AS {d_ident('lr:reason')}\nFROM {d_ident('lr:typed')}",
            )
        )
        compiled = self.compiled
        record_id = d_ident("lr:id")
        if fmt == "jsonl":  # a line with a key given twice has no id, as for the python engine
            key_list = d_ident("lr:keys")
            record_id = (
                f"CASE WHEN len({key_list}) <> len(list_distinct({key_list})) THEN NULL "
                f"ELSE {record_id} END"
            )
        select = [
            f"{d_ident('lr:row')} AS {d_ident('row')}",
            f"{record_id} AS {d_ident('id')}",
            f"{d_ident('lr:codes')} AS {d_ident('codes')}",
            f"{d_ident('lr:reason')} AS {d_ident('reason')}",
            f"{compiled.fired_list()} AS {d_ident('fired')}",
            f"{compiled.undetermined_list()} AS {d_ident('undetermined')}",
            f"{compiled.missing_pairs()} AS {d_ident('missing_pairs')}",
            f"{compiled.missing_facts()} AS {d_ident('missing_facts')}",
        ]
        if self.policy.derived_facts:
            select.append(
                "struct_pack("
                + ", ".join(
                    f"{d.ident(f.name)} := {compiled.derived[f.name]}"
                    for f in self.policy.derived_facts
                )
                + f") AS {d_ident('derived')}"
            )
        head = "WITH " + ",\n".join(f"{name} AS (\n{body}\n)" for name, body in ctes)
        body = compiled.with_clause().removeprefix("WITH ")
        text = head + (",\n" + body if body else "\n")
        return text + "SELECT " + ",\n  ".join(select) + f"\nFROM {compiled.last}"

    def run(self) -> Iterator[OutputBatch]:
        """Evaluated batches in cohort order, rejected records merged in at their rows.

        With `scan_order` (the default) DuckDB streams the results in scan order (see
        SCAN_ORDER_SETTINGS). Without it, or should a query plan not preserve order, the stream
        comes from several threads out of order, and pieces are put back in order here: each
        batch is cut into runs of consecutive row numbers, held in a heap, and released when the
        next expected row arrives (or is a record the reader already rejected). `self.waiting`
        records how many rows waited. Batches are fetched small (`batch_rows`) and gathered,
        once counted and in order, into output batches of at least `output_rows` rows.
        """
        con = connect(self.threads, self.memory_limit, self.scan_order)
        try:
            if self.layout.format != "parquet":
                con.register("lr_stream", self._arrow_stream())
            stream = con.sql(self.query()).to_arrow_reader(self.batch_rows)
            self._stream_schema = stream.schema
            pieces: list[Any] = []
            problems: list[Problem] = []
            rows = 0
            for ready, rejected in in_row_order(self._counted(stream), self._pending, self.waiting):
                pieces += ready
                problems += rejected
                rows += sum(piece.num_rows for piece in ready) + len(rejected)
                del ready
                if rows >= self.output_rows:
                    output = self._output(pieces, problems)
                    pieces, problems, rows = [], [], 0
                    yield output
                    del output  # not held while DuckDB makes the next batch
            if pieces or problems:
                yield self._output(pieces, problems)
        finally:
            con.close()

    def _counted(self, stream: Iterable[Any]) -> Iterator[Any]:
        """Counts need no order: take them as batches arrive, then pass on only what is
        written, so that batches waiting to be put in order hold as little as possible."""
        import pyarrow.compute as pc

        keep = [*results_schema(self.policy).names, "codes", "reason"]
        counted = ("fired", "undetermined", "missing_pairs", "missing_facts")
        for batch in stream:
            columns = [batch.column(name) for name in counted]
            reason = batch.column("reason")
            if reason.null_count < len(reason):  # some rows were rejected: count the others
                valid = pc.is_null(reason)
                columns = [pc.filter(column, valid) for column in columns]
            fired, undetermined, missing_pairs, missing_facts = columns
            counts = self._early
            counts.fired.update(_counter(pc.list_flatten(fired)))
            counts.undetermined.update(_counter(pc.list_flatten(undetermined)))
            for pair, n in _counter(pc.list_flatten(missing_pairs)).items():
                rule, fact = pair.split(" ", 1)
                counts.missing[(rule, fact)] += n
            counts.missing_patients.update(_counter(pc.list_flatten(missing_facts)))
            # Only the written columns go on; the missing-fact lists (the largest columns) are
            # released here, not when the next batch arrives.
            del columns, fired, undetermined, missing_pairs, missing_facts, reason
            batch = batch.select(keep)
            yield batch
            del batch

    def _output(self, pieces: list[Any], problems: list[Problem]) -> OutputBatch:
        import pyarrow as pa
        import pyarrow.compute as pc

        schema = results_schema(self.policy)
        if pieces:
            table = pa.Table.from_batches(pieces)
        else:
            names = [*schema.names, "codes", "reason"]
            table = pa.Table.from_batches([], schema=self._stream_schema).select(names)
        reason = table.column("reason")
        if reason.null_count == len(reason):  # no rejected rows: nothing to filter or copy
            good, bad = table, table.slice(0, 0)
        else:
            valid = pc.is_null(reason)
            good = table.filter(valid)
            bad = table.filter(pc.invert(valid))
        del table, reason
        counts = self._early
        self._early = Counts()
        counts.evaluated = good.num_rows
        problems = problems + [
            Problem(row, record_id, ",".join(sorted(set(codes))), reason)
            for row, record_id, codes, reason in zip(
                bad.column("row").to_pylist(),
                bad.column("id").to_pylist(),
                bad.column("codes").to_pylist(),
                bad.column("reason").to_pylist(),
                strict=True,
            )
        ]
        problems.sort(key=lambda p: p.row)
        counts.rejected = len(problems)
        counts.read = good.num_rows + len(problems)
        for problem in problems:
            for code in problem.code.split(","):
                counts.rejected_by_code[code] += 1
        results = (
            pa.Table.from_arrays([good.column(n) for n in schema.names], names=schema.names)
            .cast(schema)
            .combine_chunks()
        )
        del good, bad
        batch = (
            results.to_batches()[0]
            if results.num_rows
            else pa.RecordBatch.from_pylist([], schema=schema)
        )
        return OutputBatch(batch, problems, counts)


def in_row_order(
    batches: Iterable[Any], rejected: deque[Problem], waiting: Waiting | None = None
) -> Iterator[tuple[list[Any], list[Problem]]]:
    """Record batches with a `row` column, in any order, -> (slices, rejected records) in row
    order. `rejected` holds records rejected before evaluation (rows that are not in any batch),
    in row order; it may grow while the batches are being read. `waiting`, if given, is kept
    up to date with the rows held back after each batch (a batch that arrives in order is
    passed on whole and never counted as waiting)."""
    heap: list[tuple[int, int, Any]] = []
    sequence = 0
    next_row = 1
    held = 0
    for batch in batches:
        for first, piece in _consecutive_runs(batch):
            heapq.heappush(heap, (first, sequence, piece))
            sequence += 1
            held += piece.num_rows
        del batch
        ready: list[Any] = []
        problems: list[Problem] = []
        while True:
            while rejected and rejected[0].row <= next_row:
                problems.append(rejected.popleft())
                next_row = max(next_row, problems[-1].row + 1)
            if heap and heap[0][0] == next_row:
                piece = heapq.heappop(heap)[2]
                ready.append(piece)
                next_row += piece.num_rows
                held -= piece.num_rows
                del piece
            else:
                break
        if waiting is not None:
            waiting.rows = held
            waiting.peak = max(waiting.peak, held)
        if ready or problems:
            yield ready, problems
            del ready
    # Anything left (there should be nothing) is still written, in row order.
    rest = [heapq.heappop(heap)[2] for _ in range(len(heap))]
    problems = list(rejected)
    rejected.clear()
    if rest or problems:
        yield rest, problems


def _consecutive_runs(batch: Any) -> list[tuple[int, Any]]:
    """A record batch cut into slices whose `row` numbers go up one by one: (first row, slice)."""
    import pyarrow.compute as pc

    n = batch.num_rows
    if n == 0:
        return []
    rows = batch.column("row")
    if n == 1:
        return [(rows[0].as_py(), batch)]
    steps = pc.not_equal(pc.subtract(rows[1:], rows[: n - 1]), 1)
    cuts = [0, *(i + 1 for i in pc.indices_nonzero(steps).to_pylist()), n]
    return [(rows[a].as_py(), batch.slice(a, b - a)) for a, b in itertools.pairwise(cuts)]


def d_ident(name: str) -> str:
    return DuckDBDialect().ident(name)


# --- in-memory evaluation (tests and benchmarks) -----------------------------------------------


def patients_table(policy: m.Policy, patients: Sequence[Mapping[str, object]]) -> Any:
    """Validated fact values (as `evaluate` takes them) -> an Arrow table of typed columns."""
    import pyarrow as pa

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
        compiled = compile_policy(policy, d, "lr_patients", missing=True)
        select = [d_ident("lr:row")]
        select += [
            f"{compiled.outcome(c)} AS {d_ident('outcome:' + c.rule.id)}" for c in compiled.rules
        ]
        select += [f"{column} AS {column}" for column in compiled.derived.values()]
        select.append(f"{compiled.missing_pairs()} AS {d_ident('lr:missing')}")
        rows = connection.sql(compiled.query(select) + f" ORDER BY {d_ident('lr:row')}")
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
