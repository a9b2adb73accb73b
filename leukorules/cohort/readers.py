"""Cohort files -> numbered raw records in bounded batches, shared by both engines.

Input: a JSON Lines, CSV or Parquet file, one patient per record. Output: `RawBatch`es of at most
`chunk_rows` records, each record with its row number, plus the records the file's structure
already rules out (`Problem`s: a line that is not UTF-8, a CSV record with the wrong number of
fields). Nothing is parsed into fact values here: JSON text stays text, CSV cells stay strings,
Parquet stays Arrow. That is the engines' job, so both see exactly the same records.

Row numbers: row N is the N-th record of the cohort, counting from 1: the N-th non-blank line of a
JSON Lines file, the N-th record after the header of a CSV file, the N-th row of a Parquet file.
Blank lines are not records. Memory holds one batch at a time.
"""

from __future__ import annotations

import codecs
import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from leukorules.diagnostics import Message
from leukorules.messages import ROW_FIELD_COUNT, ROW_NOT_CSV, ROW_NOT_UTF8

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


class CohortError(Exception):
    """The cohort as a whole cannot be read (the run stops before evaluating anything)."""


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
        if fmt == "csv":
            self.columns = self._csv_header()
        elif fmt == "parquet":
            self._parquet_open()

    # --- CSV -------------------------------------------------------------------------------

    def _open_text(self) -> Any:
        # surrogateescape: a bad byte becomes a marker we can report for that record alone,
        # instead of an exception that would end the run.
        return self.path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")

    def _csv_header(self) -> tuple[str, ...]:
        with self._open_text() as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
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
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        with self._open_text() as handle:
            reader = csv.reader(handle, strict=True)
            next(reader, None)  # the header
            batch = RawBatch([], [])
            row = 0
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    break
                except csv.Error as error:
                    row += 1
                    batch.problems.append(Problem.of(row, None, ROW_NOT_CSV, problem=error))
                    continue
                if not record or (len(record) == 1 and not record[0].strip() and width > 1):
                    continue  # a blank line is not a record
                row += 1
                if _has_surrogates("".join(record)):
                    batch.problems.append(Problem.of(row, None, ROW_NOT_UTF8))
                elif len(record) != width:
                    batch.problems.append(
                        Problem.of(row, None, ROW_FIELD_COUNT, count=len(record), width=width)
                    )
                else:
                    batch.rows.append(row)
                    batch.payload.append(record)
                if batch.records >= self.chunk_rows:
                    yield batch
                    batch = RawBatch([], [])
            if batch.records:
                yield batch

    # --- JSON Lines ------------------------------------------------------------------------

    def _jsonl_batches(self) -> Iterator[RawBatch]:
        decoder = codecs.getincrementaldecoder("utf-8")
        with self.path.open("rb") as handle:
            batch = RawBatch([], [])
            row = 0
            first = True
            for raw in handle:
                if first:
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                    first = False
                if not raw.strip():
                    continue
                row += 1
                try:
                    text = decoder().decode(raw, final=True)
                except UnicodeDecodeError:
                    batch.problems.append(Problem.of(row, None, ROW_NOT_UTF8))
                else:
                    batch.rows.append(row)
                    batch.payload.append(text.rstrip("\r\n"))
                if batch.records >= self.chunk_rows:
                    yield batch
                    batch = RawBatch([], [])
            if batch.records:
                yield batch

    # --- Parquet ---------------------------------------------------------------------------

    def _parquet_open(self) -> None:
        from leukorules.cohort.schema import import_pyarrow

        import_pyarrow()
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        try:
            file = pq.ParquetFile(self.path)
        except Exception as error:  # pyarrow raises several types for unreadable files
            raise CohortError(f"{self.path.name} is not a readable Parquet file: {error}") from None
        self.arrow_schema = file.schema_arrow
        self.columns = tuple(file.schema_arrow.names)
        self.total_rows = file.metadata.num_rows
        if len(set(self.columns)) != len(self.columns):
            raise CohortError(f"{self.path.name} has two columns of the same name")

    def _parquet_batches(self) -> Iterator[RawBatch]:
        import pyarrow.parquet as pq

        file = pq.ParquetFile(self.path)
        row = 0
        for record_batch in file.iter_batches(batch_size=self.chunk_rows):
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
