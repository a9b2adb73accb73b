"""Cohort files -> numbered raw records in bounded batches, shared by both engines.

Input: a JSON Lines, CSV or Parquet file, one patient per record. Output: `RawBatch`es of at most
`chunk_rows` records, each record with its row number, plus the records the file's structure
already rules out (`Problem`s: a line that is not UTF-8, a CSV record with the wrong number of
fields). Nothing is parsed into fact values here: JSON text stays text, CSV cells stay strings,
Parquet stays Arrow. That is the engines' job, so both see exactly the same records.

Row numbers: row N is the N-th record of the cohort, counting from 1: the N-th non-blank line of a
JSON Lines file, the N-th record after the header of a CSV file, the N-th row of a Parquet file.
Blank lines are not records. Memory holds one batch at a time: at most `chunk_rows` records and,
for JSON Lines and CSV, about `BATCH_BYTES` of text; a record larger than
`leukorules.cohort.lines.MAX_ROW_BYTES` is rejected (ROW_TOO_LARGE) without being held whole.
The cohort must be a regular file: a FIFO or a device is refused by kind, never waited on.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from leukorules.cohort.lines import (
    MAX_ROW_BYTES,
    CsvLines,
    NotACohortFile,
    RecordTooLarge,
    bounded_lines,
    open_cohort,
)
from leukorules.diagnostics import Message
from leukorules.messages import ROW_FIELD_COUNT, ROW_NOT_CSV, ROW_NOT_UTF8, ROW_TOO_LARGE

CohortFormat = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, CohortFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Between the reasons of a row rejected for several (and between its codes, CODE_SEPARATOR).
REASON_SEPARATOR = "; "
CODE_SEPARATOR = ","
# A batch of JSON Lines or CSV records is passed on once its text reaches this size, whatever
# `chunk_rows` says: records near MAX_ROW_BYTES would otherwise make batches of gigabytes.
BATCH_BYTES = 64 * 1024 * 1024


class CohortError(Exception):
    """The cohort as a whole cannot be read (the run stops before evaluating anything)."""


def one_line(error: BaseException) -> str:
    """A library's error message on one line, to quote in a `CohortError` (pyarrow's and
    DuckDB's run over several lines; control characters are escaped where they are shown)."""
    return " ".join(part.strip() for part in str(error).splitlines() if part.strip())


@dataclass(frozen=True, slots=True)
class Problem:
    """A rejected record: its row number, its id when known, the diagnostic code(s), why."""

    row: int
    id: str | None
    code: str  # one code, or several joined with CODE_SEPARATOR
    reason: str

    @staticmethod
    def of(row: int, record_id: str | None, message: Message, **fields: object) -> Problem:
        """A record rejected for one reason, `message` with its fields filled."""
        return Problem(row, record_id, message.code, message.text.format(**fields))


@dataclass
class RawBatch:
    rows: list[int]
    payload: Any  # jsonl: list[str]; csv: list[list[str]]; parquet: pyarrow.RecordBatch
    problems: list[Problem] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Records this batch accounts for: the ones to decode plus the ones already rejected."""
        return len(self.rows) + len(self.problems)


def detect_format(path: Path, given: str | None = None) -> CohortFormat:
    if given:
        if given not in ("jsonl", "csv", "parquet"):
            raise CohortError(f"unknown cohort format {given!r}; use jsonl, csv or parquet")
        return given  # type: ignore[return-value]
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise CohortError(
            f"cannot tell the format of {path.name} from its extension; "
            "name it .jsonl, .csv or .parquet (or pass --format)"
        )
    return found


class CohortInput(Protocol):
    """What an engine reads a cohort from: a `CohortReader` over a file, or records made
    elsewhere (the input hook: a FHIR Bulk Data export mapped to one JSON Lines record per
    patient, `leukorules.cli.batch_fhir`), given as the same numbered raw batches."""

    @property
    def path(self) -> Path: ...
    @property
    def format(self) -> CohortFormat: ...
    @property
    def columns(self) -> tuple[str, ...] | None: ...
    @property
    def total_rows(self) -> int | None: ...
    @property
    def arrow_schema(self) -> Any: ...
    def batches(self) -> Iterator[RawBatch]: ...


class CohortReader:
    """One pass over a cohort file. `columns` is known up front for CSV and Parquet."""

    def __init__(self, path: Path, fmt: CohortFormat, chunk_rows: int = 10_000) -> None:
        self.path = path
        self.format = fmt
        self.chunk_rows = max(1, chunk_rows)
        self.columns: tuple[str, ...] | None = None
        self.total_rows: int | None = None  # known for Parquet only
        self.arrow_schema: Any = None
        if not path.exists():
            raise CohortError(f"cohort file {path} does not exist")
        if path.is_dir():
            raise CohortError(f"{path} is a folder; give one cohort file")
        try:
            open_cohort(path).close()
        except NotACohortFile as refused:
            raise CohortError(f"{path} is {refused.kind}, not a cohort file") from None
        if fmt == "csv":
            self.columns = self._csv_header()
        elif fmt == "parquet":
            self._parquet_open()

    # --- CSV -------------------------------------------------------------------------------

    def _open_text(self) -> Any:
        # surrogateescape: a bad byte becomes a marker we can report for that record alone,
        # instead of an exception that would end the run.
        return io.TextIOWrapper(
            open_cohort(self.path), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )

    def _csv_header(self) -> tuple[str, ...]:
        csv.field_size_limit(MAX_ROW_BYTES)
        with self._open_text() as handle:
            reader = csv.reader(CsvLines(handle), strict=True)
            try:
                header = next(reader, None)
            except RecordTooLarge:
                raise CohortError(
                    f"the header of {self.path.name} is larger than {MAX_ROW_BYTES:,} bytes"
                ) from None
            except csv.Error as error:
                raise CohortError(
                    f"the header of {self.path.name} is not a CSV record: {error}"
                ) from None
        if header is None:
            raise CohortError(f"{self.path.name} is empty: a CSV cohort starts with a header")
        names = tuple(h.strip() for h in header)
        if any(_has_surrogates(n) for n in names):
            raise CohortError(f"the header of {self.path.name} is not UTF-8 text")
        seen: set[str] = set()
        for name in names:
            if not name:
                raise CohortError(f"the header of {self.path.name} has an empty column name")
            if name in seen:
                raise CohortError(f"the header of {self.path.name} names `{name}` twice")
            seen.add(name)
        return names

    def _csv_batches(self) -> Iterator[RawBatch]:
        assert self.columns is not None
        width = len(self.columns)
        csv.field_size_limit(MAX_ROW_BYTES)  # never reached: CsvLines stops records before
        with self._open_text() as handle:
            lines = CsvLines(handle)
            reader = csv.reader(lines, strict=True)
            next(reader, None)  # the header
            lines.record_done()
            batch = RawBatch([], [])
            size = 0
            row = 0
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except RecordTooLarge:
                    row += 1
                    batch.problems.append(Problem.of(row, None, ROW_TOO_LARGE, limit=MAX_ROW_BYTES))
                    continue
                except csv.Error as error:
                    lines.record_done()
                    row += 1
                    batch.problems.append(Problem.of(row, None, ROW_NOT_CSV, problem=error))
                    continue
                lines.record_done()
                if not record or (len(record) == 1 and not record[0].strip() and width > 1):
                    continue  # a blank line is not a record
                row += 1
                text = "".join(record)
                if _has_surrogates(text):
                    batch.problems.append(Problem.of(row, None, ROW_NOT_UTF8))
                elif len(record) != width:
                    batch.problems.append(
                        Problem.of(row, None, ROW_FIELD_COUNT, count=len(record), width=width)
                    )
                else:
                    batch.rows.append(row)
                    batch.payload.append(record)
                    size += len(text)
                if batch.records >= self.chunk_rows or size >= BATCH_BYTES:
                    yield batch
                    batch = RawBatch([], [])
                    size = 0
            if batch.records:
                yield batch

    # --- JSON Lines ------------------------------------------------------------------------

    def _jsonl_batches(self) -> Iterator[RawBatch]:
        decoder = codecs.getincrementaldecoder("utf-8")
        with open_cohort(self.path) as handle:
            batch = RawBatch([], [])
            size = 0
            row = 0
            first = True
            for raw in bounded_lines(handle):
                if raw is None:
                    row += 1
                    batch.problems.append(Problem.of(row, None, ROW_TOO_LARGE, limit=MAX_ROW_BYTES))
                else:
                    if first:
                        raw = raw.removeprefix(codecs.BOM_UTF8)
                    if not raw.strip():
                        first = False
                        continue
                    row += 1
                    try:
                        text = decoder().decode(raw, final=True)
                    except UnicodeDecodeError:
                        batch.problems.append(Problem.of(row, None, ROW_NOT_UTF8))
                    else:
                        batch.rows.append(row)
                        batch.payload.append(text.rstrip("\r\n"))
                        size += len(raw)
                first = False
                if batch.records >= self.chunk_rows or size >= BATCH_BYTES:
                    yield batch
                    batch = RawBatch([], [])
                    size = 0
            if batch.records:
                yield batch

    # --- Parquet ---------------------------------------------------------------------------

    def _parquet_open(self) -> None:
        from leukorules.cohort.schema import import_pyarrow

        import_pyarrow()
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            file = pq.ParquetFile(os.path.abspath(self.path))  # pyarrow expands `~`
        except Exception as error:  # pyarrow raises several types for unreadable files
            raise CohortError(
                f"{self.path.name} is not a readable Parquet file: {one_line(error)}"
            ) from None
        self.arrow_schema = file.schema_arrow
        self.columns = tuple(file.schema_arrow.names)
        self.total_rows = file.metadata.num_rows
        if len(set(self.columns)) != len(self.columns):
            raise CohortError(f"{self.path.name} has two columns of the same name")

    def _parquet_batches(self) -> Iterator[RawBatch]:
        import pyarrow.parquet as pq

        file = pq.ParquetFile(os.path.abspath(self.path))  # pyarrow expands `~`
        row = 0
        batches = file.iter_batches(batch_size=self.chunk_rows)
        while True:
            try:
                record_batch = next(batches)
                # Damaged text (not UTF-8) reads without an error, and fails where it is used.
                record_batch.validate(full=True)
            except StopIteration:
                return
            except Exception as error:  # a damaged page: pyarrow raises OSError, ArrowInvalid, ...
                raise CohortError(
                    f"{self.path.name} is not a readable Parquet file: after row {row:,}: "
                    f"{one_line(error)}"
                ) from None
            rows = list(range(row + 1, row + 1 + record_batch.num_rows))
            row += record_batch.num_rows
            yield RawBatch(rows, record_batch)

    def batches(self) -> Iterator[RawBatch]:
        if self.format == "csv":
            return self._csv_batches()
        if self.format == "jsonl":
            return self._jsonl_batches()
        return self._parquet_batches()


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
