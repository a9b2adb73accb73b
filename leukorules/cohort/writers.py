"""Results and errors files: JSON Lines or Parquet, written batch by batch.

Input: per-patient results from either engine, as Python rows (python engine) or Arrow record
batches (duckdb engine). Output: one file whose content does not depend on the engine: JSON Lines
`{"row", "id", "fired", "undetermined", "derived"}` per patient (derived: every derived fact, null
when undetermined; dates as YYYY-MM-DD, sets as sorted lists), or Parquet with the schema of
`leukorules.cohort.schema.results_schema` (written with the rule ids dictionary-encoded and
without the Arrow schema, so that they read back as that schema's strings: `parquet_options`).
The errors file lists each rejected record: `{"row", "id", "codes", "reason"}` (JSON Lines, or
CSV when its name ends in .csv).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Literal

from leukorules import model as m
from leukorules.cohort.readers import CohortError, Problem
from leukorules.cohort.schema import conformed

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

            from leukorules.cohort.schema import encoded_results_schema, results_schema, rule_ids

            self.schema = results_schema(policy)
            self._encoded = encoded_results_schema(policy)
            self._rule_ids = rule_ids(policy)
            # An open file, not a name: pyarrow would take a name it cannot find for a URI.
            self._sink = pa.OSFile(str(target), "wb")
            self._parquet = pq.ParquetWriter(
                self._sink, self._encoded, compression="zstd", **parquet_options(self._encoded)
            )

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
        """A record batch or table with the columns of `results_schema` (any integer/string
        widths); in a Parquet file, one row group (a table's chunks are written one after the
        other into it, not copied together first)."""
        if batch.num_rows == 0:
            return
        if self._parquet is not None:
            self._parquet.write(
                conformed(encoded(batch, self._rule_ids), self._encoded),
                row_group_size=batch.num_rows,
            )
            return
        assert self._handle is not None
        self.write_rows(batch_rows(batch))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
            self._sink.close()


def parquet_options(schema: Any) -> dict[str, Any]:
    """How the Parquet results are written (the values do not depend on it): without the Arrow
    schema, so that the encoded rule lists read back as the strings they stand for
    (`leukorules.cohort.schema.encoded_results_schema`); dictionary encoding where values repeat
    (not the row numbers and ids); statistics where a reader may filter on them (not the rule
    lists' elements, which none does)."""
    from leukorules.cohort.schema import RULE_LISTS

    columns = parquet_columns(schema)
    unique = {"row", "id"}
    return {
        "store_schema": False,
        "use_dictionary": [c for c in columns if c not in unique],
        "write_statistics": [c for c in columns if c.split(".")[0] not in RULE_LISTS],
    }


def parquet_columns(schema: Any) -> list[str]:
    """The dotted paths of a schema's Parquet columns (lists written as `list.element`)."""
    import pyarrow.types as t  # type: ignore[import-untyped]

    def paths(name: str, arrow_type: Any) -> list[str]:
        if t.is_list(arrow_type):
            return paths(f"{name}.list.element", arrow_type.value_type)
        if t.is_struct(arrow_type):
            return [p for f in arrow_type for p in paths(f"{name}.{f.name}", f.type)]
        return [name]

    return [p for f in schema for p in paths(f.name, f.type)]


def encoded(batch: Any, rule_ids: Any) -> Any:
    """A results batch whose rule lists hold strings, with them encoded as indices into the
    policy's `rule_ids` (as the duckdb engine makes them); other batches as they are."""
    import pyarrow as pa

    from leukorules.cohort.schema import RULE_LISTS

    for name in RULE_LISTS:
        lists = batch.column(name)
        if not pa.types.is_string(lists.type.value_type):
            continue
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        indices = pc.index_in(lists.values, value_set=rule_ids).cast(pa.int32())
        if indices.null_count:
            raise ValueError(f"a `{name}` list names a rule the policy does not have")
        values = pa.DictionaryArray.from_arrays(indices, rule_ids)
        lists = pa.ListArray.from_arrays(lists.offsets, values)
        batch = batch.set_column(batch.schema.get_field_index(name), name, lists)
    return batch


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


ERRORS_CSV_HEADER = ("row", "id", "codes", "reason")


def encode_problem(problem: Problem, as_csv: bool = False) -> str:
    """A rejected record as one line of the errors file, its line end included: JSON Lines
    `{"row", "id", "codes", "reason"}`, or a CSV record (`as_csv`). Every engine writes these
    bytes (the spark engine on its executors)."""
    if as_csv:
        buffer = io.StringIO()
        csv.writer(buffer).writerow([problem.row, problem.id or "", problem.code, problem.reason])
        return buffer.getvalue()
    record = {
        "row": problem.row,
        "id": problem.id,
        "codes": problem.code.split(","),
        "reason": problem.reason,
    }
    return json.dumps(record, ensure_ascii=False) + "\n"


def errors_header(as_csv: bool) -> str:
    """What the errors file starts with: the CSV header, or nothing."""
    if not as_csv:
        return ""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(ERRORS_CSV_HEADER)
    return buffer.getvalue()


class ErrorsWriter:
    """The errors file `path` (CSV when named .csv), written to `write_to` when given."""

    def __init__(self, path: Path, write_to: Path | None = None) -> None:
        self.path = path
        self.csv = path.suffix.lower() == ".csv"
        target = write_to or path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._handle = target.open("w", encoding="utf-8", newline="")
        self._handle.write(errors_header(self.csv))

    def write(self, problems: Iterable[Problem]) -> None:
        self._handle.write("".join(encode_problem(p, self.csv) for p in problems))

    def close(self) -> None:
        self._handle.close()


def batch_rows(batch: Any) -> list[ResultRow]:
    """The result rows of a record batch with the columns of `results_schema` (the derived
    values column may be absent: no derived facts)."""
    columns = batch.to_pydict()
    derived = columns.get("derived") or [None] * batch.num_rows
    return [
        (number, record_id, fired, undetermined, values or {})
        for number, record_id, fired, undetermined, values in zip(
            columns["row"],
            columns["id"],
            columns["fired"],
            columns["undetermined"],
            derived,
            strict=True,
        )
    ]
