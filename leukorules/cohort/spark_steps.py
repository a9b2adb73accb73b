"""The Python that runs on Spark's executors: reading records, and writing the output lines.

Input: Arrow record batches of one Spark partition, in the partition's order (Spark's
`mapInArrow`). Output: Arrow record batches. Each step is a picklable object holding only small
settings (split offsets, column positions, fact names); no patient value is kept, logged or sent
to the driver.

The steps are the other engines' own code, so that every engine reads and writes the same bytes:

- `JsonLinesStep`: a JSON Lines split's lines -> numbered records (`readers.jsonl_line`: blank
  lines are no records, a line that is not UTF-8 is rejected) and the lines that are not JSON
  objects, rejected with the python engine's words (`decode.json_object_problem`). Row N is the
  N-th record of the file: the driver counts the records of every split first, in SQL, and gives
  each split the number of records before it (`offsets`); here records are counted within the
  split, in order.
- `CsvStep`: the whole CSV file's lines, in order, in one partition -> `readers.csv_batches`,
  the python engine's CSV reader (quoted fields may span lines, so a CSV file is never split).
- `ResultsLines` and `ErrorsLines`: result and error rows -> the lines of the results and errors
  files, as `writers.encode_result` and `writers.encode_problem` write them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from leukorules.cohort.decode import json_object_problem
from leukorules.cohort.readers import (
    CODE_SEPARATOR,
    Problem,
    RawBatch,
    csv_batches,
    jsonl_line,
    universal_lines,
)
from leukorules.cohort.writers import ResultRow, encode_problem, encode_result
from leukorules.messages import ROW_NOT_UTF8

# The columns every reading step returns after its payload: a problem found while reading.
PROBLEM_CODE = "lr:problem_code"
PROBLEM_REASON = "lr:problem_reason"
# Rows per Arrow batch a step gives back.
STEP_ROWS = 10_000


@dataclass(frozen=True)
class JsonLinesStep:
    """Input columns: the line (binary, without its `\\n`) and the split's first byte."""

    offsets: dict[int, int]  # split start -> records before the split

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped]

        seen: dict[int, int] = {}
        for batch in batches:
            rows: list[int] = []
            lines: list[str | None] = []
            codes: list[str | None] = []
            reasons: list[str | None] = []
            for raw, block in zip(
                batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True
            ):
                text, is_record = jsonl_line(raw)
                if not is_record:
                    continue
                seen[block] = seen.get(block, 0) + 1
                rows.append(self.offsets[block] + seen[block])
                problem = Problem.of(0, None, ROW_NOT_UTF8) if text is None else None
                if text is not None:
                    found = json_object_problem(text)
                    problem = None if found is None else Problem(0, None, *found)
                lines.append(text if problem is None else None)
                codes.append(None if problem is None else problem.code)
                reasons.append(None if problem is None else problem.reason)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(rows, pa.int64()),
                    pa.array(lines, pa.string()),
                    pa.array(codes, pa.string()),
                    pa.array(reasons, pa.string()),
                ],
                names=["lr:row", "lr:line", PROBLEM_CODE, PROBLEM_REASON],
            )


@dataclass(frozen=True)
class CsvStep:
    """Input columns: the line (binary, without its `\\n`) and the split's first byte, which
    must be 0 for every line (the file in one piece). `picks`: the positions of the id and of
    the fact columns in the header, `width` its number of columns."""

    width: int
    picks: tuple[int, ...]

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        def lines() -> Iterator[str]:
            for batch in batches:
                if any(block != 0 for block in batch.column(1).to_pylist()):
                    raise RuntimeError("a CSV cohort was split; it must be read in one piece")
                for raw in batch.column(0).to_pylist():
                    # the line's own end was cut at `\n`; `\r` and `\r\n` are still inside
                    yield from universal_lines(raw.decode("utf-8", "surrogateescape") + "\n")

        for raw_batch in csv_batches(lines(), self.width, STEP_ROWS):
            yield self._arrow(raw_batch)

    def _arrow(self, raw: RawBatch) -> Any:
        import pyarrow as pa

        n = len(raw.rows)
        rows = raw.rows + [p.row for p in raw.problems]
        columns = [pa.array(rows, pa.int64())]
        for pick in self.picks:
            cells: list[str | None] = [record[pick] for record in raw.payload]
            columns.append(pa.array(cells + [None] * len(raw.problems), pa.string()))
        codes = [None] * n + [p.code for p in raw.problems]
        reasons = [None] * n + [p.reason for p in raw.problems]
        columns += [pa.array(codes, pa.string()), pa.array(reasons, pa.string())]
        names = ["lr:row", "lr:id_raw", *(f"c{i}" for i in range(len(self.picks) - 1))]
        return pa.RecordBatch.from_arrays(columns, names=[*names, PROBLEM_CODE, PROBLEM_REASON])


@dataclass(frozen=True)
class ResultsLines:
    """Result rows (row, id, fired, undetermined[, derived]) -> `value`: the JSON line."""

    derived_names: Sequence[str]

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            columns = batch.to_pydict()
            derived = columns.get("derived") or [None] * batch.num_rows
            lines = []
            for number, record_id, fired, undetermined, values in zip(
                columns["row"],
                columns["id"],
                columns["fired"],
                columns["undetermined"],
                derived,
                strict=True,
            ):
                row: ResultRow = (number, record_id, fired, undetermined, values or {})
                lines.append(encode_result(row, self.derived_names))
            yield pa.RecordBatch.from_arrays([pa.array(lines, pa.string())], names=["value"])


@dataclass(frozen=True)
class ErrorsLines:
    """Rejected rows (row, id, codes, reason) -> `value`: the line of the errors file, without
    its line end (`line_end`, which Spark's text writer adds)."""

    as_csv: bool

    @property
    def line_end(self) -> str:
        return "\r\n" if self.as_csv else "\n"

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            columns = batch.to_pydict()
            lines = []
            for number, record_id, codes, reason in zip(
                columns["row"], columns["id"], columns["codes"], columns["reason"], strict=True
            ):
                code = CODE_SEPARATOR.join(sorted(set(codes)))
                line = encode_problem(Problem(number, record_id, code, reason), self.as_csv)
                lines.append(line.removesuffix(self.line_end))
            yield pa.RecordBatch.from_arrays([pa.array(lines, pa.string())], names=["value"])
