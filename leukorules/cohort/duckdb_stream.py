"""A cohort evaluated inside DuckDB, streamed back in cohort order as Arrow record batches.

Input: a policy, the cohort's `Layout` and its `CohortInput` (a `CohortReader`, or records from
the input hook). Output (`DuckDBRun.run`): `OutputBatch`es in row order: the evaluated rows as an
Arrow table of the results schema with the rule ids dictionary-encoded
(`leukorules.cohort.schema.encoded_results_schema`), the rejected records with their row
numbers, codes and reasons, and the counts of both; each batch holds at least `output_rows`
records but the last.

The steps, each a function of what the one before returns:

1. `leukorules.cohort.duckdb_read.plan` says how the cohort is read: by DuckDB (Parquet, JSON
   Lines, and CSV whose structure DuckDB reads as Python does) under a literal file name, or
   through the shared reader (`arrow_stream`, other CSV), and `leukorules.cohort.query.build_query`
   writes the SQL, which returns the rows in the "flags" shape (`DuckDBDialect.result_shape`).
2. The query runs on a `leukorules.cohort.duckdb.connect` connection; results arrive as small
   Arrow batches (`batch_rows`), from several threads, in scan order.
3. `numbered` numbers the records of a JSON Lines or CSV file as they arrive (the query returns
   them in file order); `rechecked` gives the JSON Lines records the query flags a strict look
   (`leukorules.cohort.duckdb_lines`): rejected as the python engine's reader rejects them, or
   evaluated again from the line Python read.
4. `counted` turns each batch's rule columns into the `fired` and `undetermined` lists
   (`leukorules.cohort.duckdb_rules`: dictionary-encoded rule ids, made with array operations)
   and adds the batch to the summary's counts (counts need no order): the recommendation and
   undetermined counts from the same bits, the missing facts from the query's row tests
   (`leukorules.cohort.duckdb_missing`); no boolean is turned into a Python object row by row.
5. `in_row_order` puts batches and the already-rejected records back in row order.
6. `assemble` gathers them into an `OutputBatch`: evaluated rows cast to the encoded schema (a
   table of the batches' slices, not copied into one chunk), rejected rows turned into
   `Problem`s, counts finished.

Memory is bounded by the batch sizes and DuckDB's streaming buffer, not by the cohort.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leukorules import model as m
from leukorules.cohort.decode import json_object_problem
from leukorules.cohort.duckdb import DuckDBDialect, connect
from leukorules.cohort.duckdb_lines import (
    LineFinder,
    Reread,
    evaluate_lines,
    has_edge_space,
    verdict,
)
from leukorules.cohort.duckdb_missing import MissingCounter
from leukorules.cohort.duckdb_read import literal_file, plan
from leukorules.cohort.duckdb_rules import RuleColumns, arrow_array
from leukorules.cohort.layout import Layout
from leukorules.cohort.query import (
    CHECK_COLUMN,
    RULE_COLUMN,
    STREAM,
    TEST_COLUMN,
    CohortQuery,
    CohortSource,
    build_query,
)
from leukorules.cohort.readers import CODE_SEPARATOR, CohortInput, Problem
from leukorules.cohort.schema import conformed, encoded_results_schema, rule_ids
from leukorules.cohort.summary import Counts

# Rows per Arrow batch fetched from DuckDB. DuckDB's Arrow stream holds several batches in flight
# (converted, buffered and being filled, per thread), and each batch here is then counted, cut,
# filtered and cast before it is written: memory grows with this number, not with the cohort.
# Measured on the bundled policy, 1,000,000-row Parquet cohort, 2 threads, stream not in scan
# order: DuckDB's stream alone peaked at about 290 MiB of RSS with 10,000 rows against 550 MiB
# with 50,000, at the same speed. With the rules' columns counted by numpy (each batch costs a
# few hundred array operations, whatever its size), 20,000 rows ran a 1M-row Parquet cohort
# in-process in 1.35-1.40 s against 1.48-1.52 s with 10,000 (5 alternating runs each) and a
# 10M-row one in 13.9 s against 15.8 s, at the same peak RSS (340 MiB, whole process); whole CLI
# runs, alternating, showed no clear difference.
BATCH_ROWS = 20_000
# Rows per output batch (at least; a row group of a Parquet results file): batches from DuckDB
# are gathered to this size after they are counted and put in order, so that results files keep
# row groups of the size they had when DuckDB's batches were this large.
OUTPUT_ROWS = 50_000
# Output batches made ahead of the caller (`ahead`): each holds OUTPUT_ROWS rows at most.
AHEAD = 2


@dataclass
class OutputBatch:
    results: Any  # Table (`encoded_results_schema`): row, id, fired, undetermined[, derived]
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
        self.streamed = False  # whether the shared reader streamed the records in (tests)

    def run(self) -> Iterator[OutputBatch]:
        """Evaluated batches in cohort order, rejected records merged in at their rows.

        With `scan_order` (the default) DuckDB streams the results in scan order (see
        `leukorules.cohort.duckdb.SCAN_ORDER_SETTINGS`), which numbering JSON Lines and CSV
        records as they arrive relies on (without it, the shared reader numbers them). Should a
        query plan not preserve the order of a Parquet scan, `in_row_order` puts the stream back
        in order; `self.waiting` records how many rows waited.

        The batches are made on a thread of their own (`ahead`), so that what the caller does
        with one (writing it) overlaps with fetching and assembling the next.
        """
        return ahead(self._batches(), AHEAD)

    def _batches(self) -> Iterator[OutputBatch]:
        schema = encoded_results_schema(self.policy)
        written = [*schema.names, "codes", "reason"]
        con = connect(self.threads, self.memory_limit, self.scan_order)
        try:
            with literal_file(self.reader) as name:
                how = plan(con, self.layout, self.reader, name, in_scan_order(con))
                query = build_query(self.policy, how.source, DuckDBDialect())
                self.streamed = how.streamed
                rejected: deque[Problem] = deque()
                if query.stream:
                    stream, rejected = arrow_stream(self.reader, self.layout, query.stream)
                    con.register(STREAM, stream)
                batches: Iterable[Any] = con.sql(query.text).to_arrow_reader(self.batch_rows)
                if not query.numbered:
                    batches = numbered(batches)
                if CHECK_COLUMN in query.columns:
                    side = Rechecks(con, self.policy, how.source, self.reader.path)
                    batches = side.rechecked(batches, rejected, how.recheck_edges)
                tally = Counts()
                pieces: list[Any] = []
                problems: list[Problem] = []
                rows = 0
                arriving = counted(batches, query, tally, written, rule_ids(self.policy))
                for ready, rejected_now in in_row_order(arriving, rejected, self.waiting):
                    pieces += ready
                    problems += rejected_now
                    rows += sum(piece.num_rows for piece in ready) + len(rejected_now)
                    del ready
                    if rows >= self.output_rows:
                        output = assemble(pieces, problems, take(tally), schema)
                        pieces, problems, rows = [], [], 0
                        yield output
                        del output  # not held while DuckDB makes the next batch
                if pieces or problems:
                    yield assemble(pieces, problems, take(tally), schema)
        finally:
            con.close()


def ahead(batches: Iterator[OutputBatch], depth: int) -> Iterator[OutputBatch]:
    """`batches`, made on a thread of their own at most `depth` ahead of the caller; an error
    there is raised here, and a caller that stops early stops the thread (and, with it, the
    query) before this returns."""
    import queue
    import threading

    made: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def make() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        made.put(("batch", batch), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
            made.put(("end", None))
        except BaseException as error:  # handed to the caller, whatever it is
            made.put(("error", error))
        finally:
            batches.close()  # type: ignore[attr-defined]

    thread = threading.Thread(target=make, name="leukorules-duckdb", daemon=True)
    thread.start()
    try:
        while True:
            kind, item = made.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                made.get(timeout=0.1)
            except queue.Empty:
                continue
        thread.join()


def in_scan_order(con: Any) -> bool:
    """Whether the connection streams results in scan order (`SCAN_ORDER_SETTINGS` applied)."""
    setting = con.sql("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    return "in_clause" in str(setting)


def take(tally: Counts) -> Counts:
    """The counts gathered so far, the tally emptied for the next output batch."""
    counts = Counts()
    counts.merge(tally)
    tally.__init__()  # type: ignore[misc]
    return counts


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


def numbered(batches: Iterable[Any]) -> Iterator[Any]:
    """Batches of records in file order, their `row` column numbered from 1 as they arrive."""
    import numpy as np

    next_row = 1
    for batch in batches:
        rows = arrow_array(np.arange(next_row, next_row + batch.num_rows, dtype=np.int64))
        next_row += batch.num_rows
        yield batch.set_column(batch.schema.get_field_index("row"), "row", rows)


class Rechecks:
    """A JSON Lines file's flagged records looked at again (`leukorules.cohort.duckdb_lines`),
    those Python reads and DuckDB could not evaluated by the query over `STREAM`."""

    def __init__(self, con: Any, policy: m.Policy, source: CohortSource, path: Path) -> None:
        import dataclasses

        self.con = con
        self.lines = LineFinder(path)
        self.query: CohortQuery = build_query(
            policy, dataclasses.replace(source, path=None), DuckDBDialect()
        )

    def rechecked(
        self, batches: Iterable[Any], rejected: deque[Problem], every_edge: bool
    ) -> Iterator[Any]:
        """The batches without their `check` column: rows rejected on a second look left out
        (and added to `rejected`), rows read again replaced. `every_edge`: also look at every
        record whose line holds a vertical tab or form feed."""
        import pyarrow as pa

        side: Any = None
        for batch in batches:
            check = batch.column(CHECK_COLUMN)
            batch = batch.drop_columns([CHECK_COLUMN])
            if every_edge:
                flagged = list(range(batch.num_rows))
            elif check.null_count == 0 and check.true_count == 0:
                yield batch
                continue
            else:
                pc = _compute()
                flagged = pc.indices_nonzero(pc.fill_null(check, True)).to_pylist()
            rows = batch.column("row").to_pylist()
            checks = check.to_pylist()  # True: look again; None: DuckDB could not read it
            keep = [True] * batch.num_rows
            rereads: list[Reread] = []
            for index in flagged:
                raw = self.lines.line(rows[index])
                if checks[index] is False and not has_edge_space(raw):
                    continue
                found = verdict(rows[index], raw, read_by_duckdb=checks[index] is not None)
                if found is None:
                    continue
                keep[index] = False
                if isinstance(found, Reread):
                    rereads.append(found)
                else:
                    rejected.append(found)
            if all(keep):
                yield batch
                continue
            batch = batch.filter(pa.array(keep))
            if rereads:
                if side is None:
                    side = self.con.cursor()
                again = evaluate_lines(side, self.query.text, rereads, STREAM)
                table = pa.concat_tables(
                    [
                        pa.Table.from_batches([batch]),
                        again.select(batch.schema.names).cast(batch.schema),
                    ]
                )
                table = table.take(_compute().sort_indices(table.column("row")))
                batch = (
                    table.combine_chunks().to_batches()[0] if table.num_rows else batch.slice(0, 0)
                )
            yield batch
        if side is not None:
            side.close()


def counted(
    stream: Iterable[Any], query: CohortQuery, tally: Counts, written: Sequence[str], rules: Any
) -> Iterator[Any]:
    """Each batch added to `tally` as it arrives (its evaluated rows: the rule columns' bits
    counted, the missing facts counted from the row tests: `MissingCounter`), its rule columns
    turned into the `fired` and `undetermined` lists (`rules`: the policy's rule ids), passed
    on cut to the `written` columns, so that batches waiting to be put in order hold as little
    as possible."""
    rule_columns = RuleColumns(rules, RULE_COLUMN)
    missing = MissingCounter(query.missing, query.tests, rule_columns.rule_ids, TEST_COLUMN)
    for batch in stream:
        reason = batch.column("reason")
        valid = None
        if reason.null_count < len(reason):  # some rows were rejected: count the others
            valid = reason.is_null().to_numpy(zero_copy_only=False)
        bits = rule_columns.unpack(batch)
        tally.fired.update(rule_columns.counts(bits.fired, valid))
        tally.undetermined.update(rule_columns.counts(bits.undetermined, valid))
        missing.count(batch, bits.undetermined, valid, tally)
        batch = batch.append_column("fired", rule_columns.lists(bits.fired))
        batch = batch.append_column("undetermined", rule_columns.lists(bits.undetermined))
        del reason, bits
        yield batch.select(written)
        del batch


def assemble(
    pieces: list[Any], problems: list[Problem], counts: Counts, schema: Any
) -> OutputBatch:
    """Batches in row order (with `codes` and `reason`) and records rejected before evaluation
    -> one output batch: the evaluated rows in the results `schema`, every rejected record as a
    `Problem`, in row order, and `counts` (the tally of these batches) completed."""
    import pyarrow as pa

    if not pieces:
        return _output(schema.empty_table(), sorted_rows(problems), counts)
    table = pa.Table.from_batches(pieces)
    reason = table.column("reason")
    if reason.null_count == len(reason):  # no rejected rows: nothing to filter or copy
        good, bad = table, table.slice(0, 0)
    else:
        valid = reason.is_null()
        good = table.filter(valid)
        bad = table.filter(_compute().invert(valid))
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
    # The pieces stay as they came (no copy into one chunk): the writer writes the table as one
    # row group, chunk by chunk.
    results = pa.Table.from_arrays([good.column(n) for n in schema.names], names=schema.names)
    del good, bad
    return _output(conformed(results, schema), sorted_rows(problems), counts)


def _compute() -> Any:
    """`pyarrow.compute`, imported only where records need a second look or were rejected: its
    import is about 50 ms of a run's start-up."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    return pc


def sorted_rows(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: p.row)


def _output(results: Any, problems: list[Problem], counts: Counts) -> OutputBatch:
    counts.evaluated = results.num_rows
    counts.rejected = len(problems)
    counts.read = results.num_rows + len(problems)
    for problem in problems:
        for code in problem.code.split(CODE_SEPARATOR):
            counts.rejected_by_code[code] += 1
    return OutputBatch(results, problems, counts)


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
    import numpy as np

    n = batch.num_rows
    if n == 0:
        return []
    rows = batch.column("row").to_numpy()  # row numbers are never NULL: no copy
    cuts = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist(), n]
    return [(int(rows[a]), batch.slice(a, b - a)) for a, b in itertools.pairwise(cuts)]
