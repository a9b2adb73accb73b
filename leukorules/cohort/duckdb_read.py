"""How the duckdb engine reads a cohort file: by DuckDB itself, or (when only Python reads it
exactly as the python engine does) through the shared reader.

Input: the cohort's `Layout` and `CohortReader`, a DuckDB connection. Output: `ReadPlan`, the
`CohortSource` the query reads (`leukorules.cohort.query`) and what the run must do besides:
stream the reader's records (`STREAM`), look again at the JSON Lines lines DuckDB flags (and at
every line holding a vertical tab or form feed, which DuckDB takes for spaces).

Guarantees:

- Paths are literal: DuckDB expands `*`, `?` and `[...]` in a file name, so the file is opened
  here and DuckDB reads it as `/dev/fd/N` (`literal_file`), the file opened and nothing else.
- Parquet and JSON Lines are always read by DuckDB. Records are numbered as the python engine
  numbers them: JSON Lines records come back in file order, one per line that is not blank (the
  same blank lines: spaces, tabs, CR, VT, FF), and are numbered as they arrive.
- CSV is read by DuckDB when its structure is the one Python's `csv` module sees: a check
  (`csv_is_plain`) runs DuckDB's strict CSV reader over the file (every record the header's
  width, quotes closed, UTF-8) and the bytes are scanned for line ends (`\\r` only within
  `\\r\\n`, or only `\\r\\n`). Any other CSV (and one of a single column, where an empty line
  is a record for DuckDB and not for Python) is read by the shared reader, record by record,
  so that every row keeps its number and every problem its wording.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leukorules.cohort.duckdb import DuckDBDialect
from leukorules.cohort.layout import Layout, arrow_kind
from leukorules.cohort.query import CohortSource
from leukorules.cohort.readers import CohortError, CohortReader

# Bytes read at a time when scanning a file's bytes.
BLOCK = 1 << 24
# Characters DuckDB expands in a file name (`FileSystem::HasGlob`).
GLOB_CHARACTERS = frozenset("*?[")
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
def literal_file(path: Path) -> Iterator[str]:
    """A name under which DuckDB reads exactly `path`: `/dev/fd/N` for the file opened here,
    while the context lasts. Without `/dev/fd`, the path itself when it holds no character
    DuckDB expands (else CohortError)."""
    if not Path("/dev/fd").is_dir():  # pragma: no cover - every supported Linux and macOS has it
        text = str(path.resolve())
        if GLOB_CHARACTERS & set(text):
            raise CohortError(f"{path.name}: rename it without *, ? or [ for the duckdb engine")
        yield text
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        yield f"/dev/fd/{descriptor}"
    finally:
        os.close(descriptor)


def plan(con: Any, layout: Layout, reader: CohortReader, name: str, ordered: bool) -> ReadPlan:
    """How the run reads the cohort. `name`: the file's literal name for DuckDB
    (`literal_file`); `ordered`: the connection streams results in scan order, which numbering
    the records of a JSON Lines or CSV file as they arrive needs (else the shared reader reads
    them, numbered)."""
    base = CohortSource(
        layout.format,
        layout.id_column,
        layout.fact_columns,
        layout.ignore_extra,
        None,
        {},
        tuple(layout.columns or ()),
    )
    if layout.format == "parquet":
        schema = reader.arrow_schema
        kinds = {
            n: arrow_kind(schema.field(n).type) for n in (layout.id_column, *layout.fact_columns)
        }
        return ReadPlan(_with(base, path=name, column_kinds=kinds))
    if not ordered:
        return ReadPlan(base, streamed=True)
    if layout.format == "jsonl":
        return ReadPlan(
            _with(base, path=name), recheck_edges=_holds_any(reader.path, JSON_EDGE_SPACES)
        )
    if csv_is_plain(con, reader.path, name, len(base.columns)):
        return ReadPlan(_with(base, path=name))
    return ReadPlan(base, streamed=True)


def _with(source: CohortSource, **changes: Any) -> CohortSource:
    import dataclasses

    return dataclasses.replace(source, **changes)


def csv_is_plain(con: Any, path: Path, name: str, width: int) -> bool:
    """Whether DuckDB reads the CSV file's records as Python's `csv` module does: a header of
    more than one column, line ends that are all `\\n` or all `\\r\\n`, and every record read
    by DuckDB's strict reader (the header's width, quotes closed, UTF-8)."""
    import duckdb

    if width < 2 or not _plain_line_ends(path):
        return False
    # Counting each field makes DuckDB build every value (and check its UTF-8).
    every_field = ", ".join(f"count(f{i})" for i in range(width))
    try:
        records = DuckDBDialect().csv_file(name, width)
        con.sql(f"SELECT {every_field} FROM ({records})").fetchall()
    except duckdb.Error:
        return False
    return True


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            yield block


def _holds_any(path: Path, needles: tuple[bytes, ...]) -> bool:
    return any(needle in block for block in _blocks(path) for needle in needles)


def _plain_line_ends(path: Path) -> bool:
    """No `\\r`, or every `\\r` and every `\\n` within a `\\r\\n` (a pair split between two
    blocks is counted by carrying the last byte over)."""
    returns = newlines = pairs = 0
    previous = b""
    for block in _blocks(path):
        returns += block.count(b"\r")
        newlines += block.count(b"\n")
        pairs += block.count(b"\r\n") + (previous == b"\r" and block[:1] == b"\n")
        previous = block[-1:]
    return returns == 0 or returns == newlines == pairs
