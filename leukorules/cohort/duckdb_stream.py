"""A cohort evaluated inside DuckDB, streamed back in cohort order as Arrow record batches.

Input: a policy, the cohort's `Layout` and its `CohortInput` (a `CohortReader`, or records from
the input hook). Output (`DuckDBRun.run`):
`OutputBatch`es in row order: the evaluated rows as an Arrow record batch of the results schema
(`leukorules.cohort.schema.results_schema`), the rejected records with their row numbers, codes and
reasons, and the counts of both; each batch holds at least `output_rows` records but the last.

The steps, each a function of what the one before returns:

1. `cohort_source` describes the cohort to `leukorules.cohort.query.build_query`, which returns the
   SQL and the stream it reads. Parquet: DuckDB reads the file. CSV and JSON Lines: `arrow_stream`
   turns the shared reader's records into the Arrow stream DuckDB pulls, and hands back the
   records the reader (or the JSON check) already rejected, filled in as DuckDB pulls.
2. The query runs on a `leukorules.cohort.duckdb.connect` connection; results arrive as small
   Arrow batches (`batch_rows`), from several threads.
3. `counted` counts each batch as it arrives (counts need no order) and keeps only the columns
   that are written.
4. `in_row_order` puts batches and the already-rejected records back in row order.
5. `assemble` gathers them into an `OutputBatch`: evaluated rows cast to the results schema,
   rejected rows turned into `Problem`s, counts finished.

Memory is bounded by the batch sizes and DuckDB's streaming buffer, not by the cohort.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from leukorules import model as m
from leukorules.cohort.decode import json_object_problem
from leukorules.cohort.duckdb import DuckDBDialect, connect
from leukorules.cohort.layout import Layout
from leukorules.cohort.query import STREAM, build_query, cohort_source
from leukorules.cohort.readers import CODE_SEPARATOR, CohortInput, Problem
from leukorules.cohort.schema import results_schema
from leukorules.cohort.summary import Counts

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
# The query's columns that are counted as they arrive, and not written.
COUNTED = ("fired", "undetermined", "missing_pairs", "missing_facts")


@dataclass
class OutputBatch:
    results: Any  # pyarrow RecordBatch: row, id, fired, undetermined[, derived]
    problems: list[Problem]
    counts: Counts


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
        reader: CohortInput,
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

    def run(self) -> Iterator[OutputBatch]:
        """Evaluated batches in cohort order, rejected records merged in at their rows.

        With `scan_order` (the default) DuckDB streams the results in scan order (see
        `leukorules.cohort.duckdb.SCAN_ORDER_SETTINGS`). Without it, or should a query plan not
        preserve order, the stream comes from several threads out of order and `in_row_order`
        puts it back; `self.waiting` records how many rows waited.
        """
        query = build_query(self.policy, cohort_source(self.layout, self.reader), DuckDBDialect())
        schema = results_schema(self.policy)
        written = [*schema.names, "codes", "reason"]
        con = connect(self.threads, self.memory_limit, self.scan_order)
        try:
            rejected: deque[Problem] = deque()
            if query.stream:
                stream, rejected = arrow_stream(self.reader, self.layout, query.stream)
                con.register(STREAM, stream)
            results = con.sql(query.text).to_arrow_reader(self.batch_rows)
            tally = Tally()
            pieces: list[Any] = []
            problems: list[Problem] = []
            rows = 0
            ordered = in_row_order(counted(results, tally, written), rejected, self.waiting)
            for ready, rejected_now in ordered:
                pieces += ready
                problems += rejected_now
                rows += sum(piece.num_rows for piece in ready) + len(rejected_now)
                del ready
                if rows >= self.output_rows:
                    output = assemble(pieces, problems, tally.take(), schema)
                    pieces, problems, rows = [], [], 0
                    yield output
                    del output  # not held while DuckDB makes the next batch
            if pieces or problems:
                yield assemble(pieces, problems, tally.take(), schema)
        finally:
            con.close()


def arrow_stream(
    reader: CohortInput, layout: Layout, columns: Sequence[tuple[str, str]]
) -> tuple[Any, deque[Problem]]:
    """CSV and JSON Lines: the reader's records as an Arrow stream of `columns` (see
    `CohortQuery.stream`), and the records rejected before DuckDB sees them (structure, and
    lines that are not JSON objects), in row order, added as DuckDB pulls the stream."""
    import pyarrow as pa  # type: ignore[import-untyped]

    schema = pa.schema(
        [(name, pa.int64() if kind == "int64" else pa.string()) for name, kind in columns]
    )
    rejected: deque[Problem] = deque()

    def batches() -> Iterator[Any]:
        for raw in reader.batches():
            problems = list(raw.problems)
            if layout.format == "jsonl":
                rows, lines = [], []
                for row, line in zip(raw.rows, raw.payload, strict=True):
                    reason = json_object_problem(line)
                    if reason is None:
                        rows.append(row)
                        lines.append(line)
                    else:
                        problems.append(Problem(row, None, *reason))
                arrays = [pa.array(rows, pa.int64()), pa.array(lines, pa.string())]
            else:
                assert layout.columns is not None
                cells = list(zip(*raw.payload, strict=True)) if raw.payload else []
                picks = [layout.columns.index(layout.id_column)]
                picks += [layout.columns.index(n) for n in layout.fact_columns]
                arrays = [pa.array(raw.rows, pa.int64())]
                arrays += [pa.array(cells[i] if cells else [], pa.string()) for i in picks]
            problems.sort(key=lambda p: p.row)
            rejected.extend(problems)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches()), rejected


class Tally:
    """Counts of the batches seen since the last `take`."""

    def __init__(self) -> None:
        self.counts = Counts()

    def take(self) -> Counts:
        counts, self.counts = self.counts, Counts()
        return counts


def counted(stream: Iterable[Any], tally: Tally, written: Sequence[str]) -> Iterator[Any]:
    """Each batch counted into `tally` as it arrives, passed on cut to the `written` columns, so
    that batches waiting to be put in order hold as little as possible."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    for batch in stream:
        columns = [batch.column(name) for name in COUNTED]
        reason = batch.column("reason")
        if reason.null_count < len(reason):  # some rows were rejected: count the others
            valid = pc.is_null(reason)
            columns = [pc.filter(column, valid) for column in columns]
        fired, undetermined, missing_pairs, missing_facts = columns
        counts = tally.counts
        counts.fired.update(_counter(pc.list_flatten(fired)))
        counts.undetermined.update(_counter(pc.list_flatten(undetermined)))
        for pair, n in _counter(pc.list_flatten(missing_pairs)).items():
            rule, fact = pair.split(" ", 1)
            counts.missing[(rule, fact)] += n
        counts.missing_patients.update(_counter(pc.list_flatten(missing_facts)))
        # The missing-fact lists (the largest columns) are released here, not when the next
        # batch arrives.
        del columns, fired, undetermined, missing_pairs, missing_facts, reason
        batch = batch.select(written)
        yield batch
        del batch


def _counter(array: Any) -> Counter[str]:
    import pyarrow.compute as pc

    found: Counter[str] = Counter()
    if len(array) == 0:
        return found
    counted_values = pc.value_counts(array)
    for value, count in zip(
        counted_values.field("values").to_pylist(),
        counted_values.field("counts").to_pylist(),
        strict=True,
    ):
        if value is not None:
            found[value] = count
    return found


def assemble(
    pieces: list[Any], problems: list[Problem], counts: Counts, schema: Any
) -> OutputBatch:
    """Batches in row order (with `codes` and `reason`) and records rejected before evaluation
    -> one output batch: the evaluated rows in the results `schema`, every rejected record as a
    `Problem`, in row order, and `counts` (the tally of these batches) completed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pieces:
        return _output(pa.RecordBatch.from_pylist([], schema=schema), sorted_rows(problems), counts)
    table = pa.Table.from_batches(pieces)
    reason = table.column("reason")
    if reason.null_count == len(reason):  # no rejected rows: nothing to filter or copy
        good, bad = table, table.slice(0, 0)
    else:
        valid = pc.is_null(reason)
        good = table.filter(valid)
        bad = table.filter(pc.invert(valid))
    del table, reason
    problems = problems + [
        Problem(row, record_id, CODE_SEPARATOR.join(sorted(set(codes))), reason)
        for row, record_id, codes, reason in zip(
            bad.column("row").to_pylist(),
            bad.column("id").to_pylist(),
            bad.column("codes").to_pylist(),
            bad.column("reason").to_pylist(),
            strict=True,
        )
    ]
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
    return _output(batch, sorted_rows(problems), counts)


def sorted_rows(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.row)


def _output(batch: Any, problems: list[Problem], counts: Counts) -> OutputBatch:
    counts.evaluated = batch.num_rows
    counts.rejected = len(problems)
    counts.read = batch.num_rows + len(problems)
    for problem in problems:
        for code in problem.code.split(CODE_SEPARATOR):
            counts.rejected_by_code[code] += 1
    return OutputBatch(batch, problems, counts)


def in_row_order(
    batches: Iterable[Any], rejected: deque[Problem], waiting: Waiting | None = None
) -> Iterator[tuple[list[Any], list[Problem]]]:
    """Record batches with a `row` column, in any order, -> (slices, rejected records) in row
    order. `rejected` holds records rejected before evaluation (rows that are not in any batch),
    in row order; it may grow while the batches are being read. `waiting`, if given, is kept
    up to date with the rows held back after each batch (a batch that arrives in order is
    passed on whole and never counted as waiting).

    Each batch is cut into runs of consecutive row numbers, held in a heap, and released when
    the next expected row arrives (or is a record already rejected)."""
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
