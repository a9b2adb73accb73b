"""Results and errors files: JSON Lines or Parquet, written batch by batch.

Input: per-patient results from either engine, as Python rows (python engine) or Arrow record
batches (duckdb engine). Output: one file whose content does not depend on the engine: JSON Lines
`{"row", "id", "fired", "undetermined", "derived"}` per patient (derived: every derived fact, null
when undetermined; dates as YYYY-MM-DD, sets as sorted lists), or Parquet with the schema of
`leukorules.cohort.schema.results_schema`. The errors file lists each rejected record:
`{"row", "id", "codes", "reason"}` (JSON Lines, or CSV when its name ends in .csv).
"""

from __future__ import annotations

import csv
import datetime
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from leukorules import model as m
from leukorules.cohort.readers import CohortError, Problem

OutputFormat = Literal["jsonl", "parquet"]
ResultRow = tuple[int, str, list[str], list[str], dict[str, object]]


def output_format(path: Path) -> OutputFormat:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise CohortError(f"results file {path.name}: name it .jsonl or .parquet")


def json_value(value: object) -> object:
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | list | tuple):
        return sorted(str(v) for v in value)
    return value


def encode_result(row: ResultRow, derived_names: Sequence[str]) -> str:
    number, record_id, fired, undetermined, derived = row
    record = {
        "row": number,
        "id": record_id,
        "fired": fired,
        "undetermined": undetermined,
        "derived": {name: json_value(derived.get(name)) for name in derived_names},
    }
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class ResultsWriter:
    """The results file `path` (its name says the format), written to `write_to` when given (the
    temporary file of `leukorules.cohort.outputs`), else to `path` itself."""

    def __init__(self, path: Path, policy: m.Policy, write_to: Path | None = None) -> None:
        self.path = path
        self.format = output_format(path)
        self.policy = policy
        self.derived_names = tuple(f.name for f in policy.derived_facts)
        self._handle: IO[str] | None = None
        self._parquet: Any = None
        self._sink: Any = None
        self.schema: Any = None
        target = write_to or path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "jsonl":
            self._handle = target.open("w", encoding="utf-8", newline="\n")
        else:
            import pyarrow as pa  # type: ignore[import-untyped]
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            from leukorules.cohort.schema import results_schema

            self.schema = results_schema(policy)
            # An open file, not a name: pyarrow would take a name it cannot find for a URI.
            self._sink = pa.OSFile(str(target), "wb")
            self._parquet = pq.ParquetWriter(self._sink, self.schema, compression="zstd")

    def write_text(self, text: str) -> None:
        """Already encoded JSON lines (each ending in a newline)."""
        assert self._handle is not None
        self._handle.write(text)

    def write_rows(self, rows: Sequence[ResultRow]) -> None:
        if not rows:
            return
        if self._handle is not None:
            self._handle.write("".join(encode_result(r, self.derived_names) + "\n" for r in rows))
        else:
            self.write_arrow(rows_to_arrow(rows, self.policy, self.schema))

    def write_arrow(self, batch: Any) -> None:
        """A record batch with the columns of `results_schema` (any integer/string widths)."""
        if batch.num_rows == 0:
            return
        if self._parquet is not None:
            self._parquet.write_batch(batch.cast(self.schema) if hasattr(batch, "cast") else batch)
            return
        assert self._handle is not None
        columns = batch.to_pydict()
        rows: list[ResultRow] = []
        derived = columns.get("derived") or [{}] * batch.num_rows
        for number, record_id, fired, undetermined, values in zip(
            columns["row"],
            columns["id"],
            columns["fired"],
            columns["undetermined"],
            derived,
            strict=True,
        ):
            rows.append((number, record_id, fired, undetermined, values or {}))
        self.write_rows(rows)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
            self._sink.close()


def rows_to_arrow(rows: Sequence[ResultRow], policy: m.Policy, schema: Any) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {
        "row": [r[0] for r in rows],
        "id": [r[1] for r in rows],
        "fired": [r[2] for r in rows],
        "undetermined": [r[3] for r in rows],
    }
    if "derived" in schema.names:
        kinds = {f.name: f.type.kind for f in policy.derived_facts}
        columns["derived"] = [
            {
                name: (
                    sorted(value)
                    if isinstance(value, frozenset | set)
                    else datetime.date.fromisoformat(value)
                    if kind == "date" and isinstance(value, str)
                    else value
                )
                for name, kind in kinds.items()
                for value in (r[4].get(name),)
            }
            for r in rows
        ]
    return pa.RecordBatch.from_pydict(columns, schema=schema)


class ErrorsWriter:
    """The errors file `path` (CSV when named .csv), written to `write_to` when given."""

    def __init__(self, path: Path, write_to: Path | None = None) -> None:
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        target = write_to or path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._handle = target.open("w", encoding="utf-8", newline="" if self.csv else "\n")
        self._csv: Any = None
        if self.csv:
            self._csv = csv.writer(self._handle)
            self._csv.writerow(["row", "id", "codes", "reason"])

    def write(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            if self._csv is not None:
                self._csv.writerow([p.row, p.id or "", p.code, p.reason])
            else:
                record = {"row": p.row, "id": p.id, "codes": p.code.split(","), "reason": p.reason}
                self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._handle.close()
