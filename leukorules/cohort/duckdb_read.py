"""How the duckdb engine reads a cohort file: by DuckDB itself, or (when only Python reads it
exactly as the python engine does) through the shared reader.

Input: the cohort's `Layout` and `CohortInput`, a DuckDB connection. Output: `ReadPlan`, the
`CohortSource` the query reads (`leukorules.cohort.query`) and what the run must do besides:
stream the reader's records (`STREAM`), look again at the JSON Lines lines DuckDB flags (and at
every line holding a vertical tab or form feed, which DuckDB takes for spaces).

Guarantees:

- Paths are literal: DuckDB expands `*`, `?` and `[...]` in a file name, so the file is opened
  here (a regular file, `leukorules.cohort.lines.open_cohort`) and DuckDB reads it as
  `/dev/fd/N` (`literal_file`), the file opened and nothing else.
- Parquet is always read by DuckDB. JSON Lines is read by DuckDB unless a line may be longer
  than `leukorules.cohort.lines.MAX_ROW_BYTES` (`jsonl_bytes`: a stretch of half that without a
  line break), which the shared reader rejects as too large, row by row. Records read by DuckDB
  are numbered as the python engine numbers them: they come back in file order, one per line
  that is not blank (the same blank lines: spaces, tabs, CR, VT, FF), numbered as they arrive.
- CSV is read by DuckDB when its structure is the one Python's `csv` module sees: a check
  (`csv_is_plain`) runs DuckDB's strict CSV reader over the file (every record the header's
  width, quotes closed, UTF-8, no record near the size limit, no empty field after the last,
  which that reader drops: the file's commas are counted) and the bytes are scanned for line
  ends (`\r` only within `\r\n`, or only `\r\n`). Any other CSV (and one of a single
  column, where an empty line is a record for DuckDB and not for Python) is read by the shared
  reader, record by record, so that every row keeps its number and every problem its wording.
- Records that do not come from a file (the input hook: `BatchOptions.records`) are streamed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from leukorules.cohort.duckdb import DuckDBDialect
from leukorules.cohort.layout import Layout, arrow_kind
from leukorules.cohort.lines import MAX_ROW_BYTES, open_cohort
from leukorules.cohort.query import CohortSource
from leukorules.cohort.readers import CohortInput, CohortReader

# Bytes read at a time when scanning a file's bytes: a whole number of `WINDOW`s.
BLOCK = 1 << 24
# A line longer than MAX_ROW_BYTES holds a whole stretch of this many bytes, aligned on a
# multiple of it, without a line break.
WINDOW = MAX_ROW_BYTES // 2
# Bytes DuckDB's JSON reader takes for spaces around a line's JSON and Python's does not.
JSON_EDGE_SPACES = (b"\x0b", b"\x0c")


@dataclass(frozen=True)
class ReadPlan:
    """`source`: what the query reads. `streamed`: the shared reader's records are streamed in
    (`CohortSource.path` is None). `recheck_edges`: a JSON Lines file holding a vertical tab or
    form feed somewhere; its lines holding one are read again by Python."""

    source: CohortSource
    streamed: bool = False
    recheck_edges: bool = False


@contextlib.contextmanager
def literal_file(cohort: CohortInput) -> Iterator[str | None]:
    """A name under which DuckDB reads exactly the cohort's file: `/dev/fd/N` for the file
    opened here (a regular file, else `NotACohortFile`), while the context lasts (without
    `/dev/fd`, its absolute path); None for records that come from no file."""
    if not isinstance(cohort, CohortReader):
        yield None
        return
    with open_cohort(cohort.path) as handle:
        if Path("/dev/fd").is_dir():
            yield f"/dev/fd/{handle.fileno()}"
        else:  # pragma: no cover - Linux and macOS have /dev/fd
            # the dialect spells glob characters literally (`duckdb.literal_path`)
            yield os.path.abspath(cohort.path)


def plan(
    con: Any, layout: Layout, reader: CohortInput, name: str | None, ordered: bool
) -> ReadPlan:
    """How the run reads the cohort. `name`: the file's literal name for DuckDB
    (`literal_file`; None: records from no file); `ordered`: the connection streams results in
    scan order, which numbering the records of a JSON Lines or CSV file as they arrive needs
    (else the shared reader reads them, numbered)."""
    base = CohortSource(
        layout.format,
        layout.id_column,
        layout.fact_columns,
        layout.ignore_extra,
        None,
        {},
        tuple(layout.columns or ()),
    )
    if name is None:
        return ReadPlan(base, streamed=True)
    if layout.format == "parquet":
        schema = reader.arrow_schema
        kinds = {
            n: arrow_kind(schema.field(n).type) for n in (layout.id_column, *layout.fact_columns)
        }
        return ReadPlan(replace(base, path=name, column_kinds=kinds))
    if not ordered:
        return ReadPlan(base, streamed=True)
    if layout.format == "jsonl":
        long_lines, edges = jsonl_bytes(reader.path)
        if long_lines:
            return ReadPlan(base, streamed=True)
        return ReadPlan(replace(base, path=name), recheck_edges=edges)
    if csv_is_plain(con, reader.path, name, base.columns):
        return ReadPlan(replace(base, path=name))
    return ReadPlan(base, streamed=True)


def csv_is_plain(con: Any, path: Path, name: str, columns: Sequence[str]) -> bool:
    """Whether DuckDB reads the CSV file's records as Python's `csv` module does: a header of
    more than one column (`columns`, as Python read it), line ends that are all `\\n` or all
    `\\r\\n`, every record read by DuckDB's strict reader (the header's width, quotes closed,
    UTF-8), and no record with a field more than the header: DuckDB's strict reader drops an
    empty field after the last one (`p1,pml,5,` under a 3-column header), which Python counts,
    so the file's commas must be exactly those between the header's fields, between each
    record's fields and inside the values."""
    import duckdb

    width = len(columns)
    if width < 2:
        return False
    line_ends, commas = _line_ends_and_commas(path)
    if not line_ends:
        return False
    # Counting each field makes DuckDB build every value (and check its UTF-8). A record's
    # text is at most twice its fields (quotes doubled) and three characters a field: one whose
    # fields leave no room for that under MAX_ROW_BYTES is left to the shared reader's bound.
    d = DuckDBDialect()
    every_field = ", ".join(f"count(f{i})" for i in range(width))
    size = " + ".join(f"coalesce(strlen(f{i}), 0)" for i in range(width))
    inside = " + ".join(f"coalesce({d.count_character(f'f{i}', ',')}, 0)" for i in range(width))
    try:
        records = d.csv_file(name, width)
        found = con.sql(
            f"SELECT max({size}), count(*), sum({inside}), {every_field} FROM ({records})"
        ).fetchall()
    except duckdb.Error:
        return False
    largest, count, in_values = found[0][0] or 0, found[0][1], found[0][2] or 0
    in_header = sum(column.count(",") for column in columns)
    if commas != (width - 1) * (count + 1) + in_values + in_header:
        return False
    return 2 * largest + 3 * width <= MAX_ROW_BYTES


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            yield block


def jsonl_bytes(path: Path) -> tuple[bool, bool]:
    """(whether a line of the file may be longer than MAX_ROW_BYTES, whether it holds a
    vertical tab or form feed), from its bytes (`bytes.find`, no line split)."""
    long_lines = edges = False
    for block in _blocks(path):
        edges = edges or any(space in block for space in JSON_EDGE_SPACES)
        whole = len(block) - len(block) % WINDOW
        long_lines = long_lines or any(
            block.find(b"\n", start, start + WINDOW) < 0 for start in range(0, whole, WINDOW)
        )
        if long_lines:
            break
    return long_lines, edges


def _line_ends_and_commas(path: Path) -> tuple[bool, int]:
    """(No `\\r`, or every `\\r` and every `\\n` within a `\\r\\n`; the number of commas
    in the file). A pair split between two blocks is counted by carrying the last byte over."""
    returns = newlines = pairs = commas = 0
    previous = b""
    for block in _blocks(path):
        returns += block.count(b"\r")
        newlines += block.count(b"\n")
        pairs += block.count(b"\r\n") + (previous == b"\r" and block[:1] == b"\n")
        commas += block.count(b",")
        previous = block[-1:]
    return returns == 0 or returns == newlines == pairs, commas
