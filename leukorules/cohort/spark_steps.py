"""The Python that runs on Spark's executors: reading records, and writing the output lines.

Input: Arrow record batches of one Spark partition, in the partition's order (Spark's
`mapInArrow`). Output: Arrow record batches. Each step is a picklable object holding only small
settings (split offsets, column positions, fact names); no patient value is kept, logged or sent
to the driver.

The steps are the other engines' own code, so that every engine reads and writes the same bytes:

- `JsonLinesStep`: a JSON Lines split's lines -> numbered records (`readers.jsonl_record`:
  blank lines are no records, a line that is not UTF-8 or longer than
  `lines.MAX_ROW_BYTES` is rejected) and the lines that are not JSON objects, rejected with the
  python engine's words (`decode.json_object_problem`). Row N is the N-th record of the file:
  the driver counts the records of every split first, in SQL, and gives each split the number of
  records before it (`offsets`); here records are counted within the split, in order.
- `CsvStep`: the whole CSV file's lines, in order, in one partition -> `readers.csv_batches`,
  the python engine's CSV reader (quoted fields may span lines, so a CSV file is never split;
  a record over `lines.MAX_ROW_BYTES` is rejected as there).

Spark's text reader (Hadoop's) cuts lines at `\n` only, drops a byte-order mark at the start of
the file as the python engine's readers do, and holds each line whole: a line far over the
record limit is read before it is rejected (the python engine reads past it in pieces).
- `ResultsLines` and `ErrorsLines`: result and error rows -> the lines of the results and errors
  files, as `writers.encode_result` and `writers.encode_problem` write them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from leukorules.cohort.decode import json_object_problem
from leukorules.cohort.lines import MAX_ROW_BYTES
from leukorules.cohort.readers import (
    CODE_SEPARATOR,
    Problem,
    RawBatch,
    csv_batches,
    jsonl_record,
)
from leukorules.cohort.writers import batch_rows, encode_problem, encode_result

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
                # first=False: Hadoop's reader already dropped the file's byte-order mark
                is_record, text, problem = jsonl_record(bounded(raw), first=False)
                if not is_record:
                    continue
                seen[block] = seen.get(block, 0) + 1
                rows.append(self.offsets[block] + seen[block])
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

        # `csv_batches` reads a file: LineFeed gives it the lines as a file's readline does
        feed = cast(IO[str], LineFeed(lines()))
        for raw_batch in csv_batches(feed, self.width, STEP_ROWS):
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


def bounded(raw: bytes) -> bytes | None:
    """A line as `lines.bounded_lines` gives it: None when longer than MAX_ROW_BYTES (line end
    not counted), a blank line when it is nothing but blanks, else the line itself."""
    if len(raw.rstrip(b"\r\n")) <= MAX_ROW_BYTES:
        return raw
    return b"" if not raw.strip() else None


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def universal_lines(text: str) -> Iterator[str]:
    """`text` cut into lines, each with its end (`\\r\\n`, `\\r` or `\\n`), as reading a file
    opened with `newline=""` cuts it."""
    for match in _LINE.finditer(text):
        yield match.group()


class LineFeed:
    """Lines, each with its end, read back through `readline(size)` as from a text file opened
    with `newline=""`: at most `size` characters at a time, the rest of a line next time."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._rest = ""

    def readline(self, size: int = -1) -> str:
        if not self._rest:
            self._rest = next(self._lines, "")
        if 0 <= size < len(self._rest):
            line, self._rest = self._rest[:size], self._rest[size:]
        else:
            line, self._rest = self._rest, ""
        return line


@dataclass(frozen=True)
class ResultsLines:
    """Result rows (row, id, fired, undetermined[, derived]) -> `value`: the JSON line."""

    derived_names: Sequence[str]

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        for batch in batches:
            lines = [encode_result(row, self.derived_names) for row in batch_rows(batch)]
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
