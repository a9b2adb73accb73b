"""A second, strict look at the JSON Lines records DuckDB may have read otherwise than Python.

Input: the cohort file and the row numbers of records to look at again (in increasing order:
those the query flags in its `check` column, `leukorules.cohort.query.CHECK_COLUMN`, and with
`every_edge` those whose line holds a vertical tab or form feed). Output, per record, what the
python engine's reader and checks make of its line (`leukorules.cohort.decode.json_object_problem`,
the same functions the duckdb engine applied to every line when Python read the file):

- `Rejected`: not UTF-8, or not a JSON object Python reads; the row is rejected with that reason
  (and no id), whatever the query said;
- `Reread`: a JSON object Python reads but DuckDB could not (the query saw no line): the line is
  evaluated again, by the query over `STREAM` (`evaluate_lines`);
- nothing: DuckDB read the line as Python does; the query's row stands.

Lines are found by walking the file once, in Python, as far as the last record asked for; files
whose lines DuckDB reads as Python does are never walked.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leukorules.cohort.decode import json_object_problem
from leukorules.cohort.readers import Problem
from leukorules.messages import ROW_NOT_UTF8

# Bytes read at a time while walking the file.
BLOCK = 1 << 20


@dataclass(frozen=True, slots=True)
class Reread:
    row: int
    line: str


Verdict = Problem | Reread | None


class LineFinder:
    """The raw lines of a JSON Lines file by record number, numbered as `CohortReader` numbers
    them (the first line without its UTF-8 BOM; blank lines are not records)."""

    def __init__(self, path: Path) -> None:
        self.lines = _raw_lines(path)
        self.row = 0
        self.current = b""

    def line(self, row: int) -> bytes:
        """The raw line of record `row` (with its `\\n`); rows are asked for in increasing order."""
        if row < self.row:
            raise ValueError(f"record {row} was asked for after record {self.row}")
        while self.row < row:
            self.current = next(self.lines)
            if self.current.strip():
                self.row += 1
        return self.current


def _raw_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        rest = handle.read(BLOCK).removeprefix(codecs.BOM_UTF8)
        while True:
            block = handle.read(BLOCK)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line + b"\n"
            if not block:
                break
        if rest:
            yield rest


def verdict(row: int, raw: bytes, read_by_duckdb: bool) -> Verdict:
    """What the python engine's reader makes of record `row`'s raw line (see the module)."""
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return Problem.of(row, None, ROW_NOT_UTF8)
    problem = json_object_problem(text)
    if problem is not None:
        return Problem(row, None, *problem)
    return None if read_by_duckdb else Reread(row, text)


def has_edge_space(raw: bytes) -> bool:
    """A vertical tab or form feed: DuckDB takes them for spaces around a line's JSON."""
    return b"\x0b" in raw or b"\x0c" in raw


def evaluate_lines(con: Any, query_text: str, lines: Sequence[Reread], stream: str) -> Any:
    """The rows of `query_text` (a query over the stream `stream` of row numbers and lines) for
    `lines`, as an Arrow table."""
    import pyarrow as pa  # type: ignore[import-untyped]

    table = pa.table(
        {
            "lr:row": pa.array([line.row for line in lines], pa.int64()),
            "lr:line": pa.array([line.line for line in lines], pa.string()),
        }
    )
    con.register(stream, table)
    try:
        return con.sql(query_text).to_arrow_table()
    finally:
        con.unregister(stream)
