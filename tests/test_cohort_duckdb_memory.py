"""What keeps the duckdb engine's memory flat: the settings that reach DuckDB, a stream that
arrives in scan order (so nothing waits to be put back in order), small fetches from DuckDB.

No timings or memory thresholds here: these tests pin the mechanisms; `benchmarks/run.py`
measures what they are worth (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from leukorules import model as m

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")

from leukorules.cohort import duckdb as engine  # noqa: E402
from leukorules.cohort import duckdb_stream as stream  # noqa: E402
from leukorules.cohort.layout import Layout  # noqa: E402
from leukorules.cohort.readers import CohortReader, Problem  # noqa: E402
from leukorules.cohort.runner import BatchOptions, run_batch  # noqa: E402

ROWS = 40_000
ROW_GROUP = 4_000


@pytest.fixture(scope="module")
def bundled() -> m.Policy:
    from leukorules import load_policy

    return load_policy().policy


@pytest.fixture(scope="module")
def cohort(bundled: m.Policy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded patients of the bundled policy in many row groups (so that both threads scan at
    once), with some enum values outside their domain (so that `NOT IN` checks reject rows)."""
    rng = random.Random(7)
    columns: dict[str, list[object]] = {"id": [f"p{i}" for i in range(ROWS)]}
    for fact in bundled.input_facts:
        values: list[object] = [None, True, False] if fact.type.kind == "bool" else [None]
        values += list(fact.type.values)
        column = [values[rng.randrange(len(values))] for _ in range(ROWS)]
        if fact.type.kind == "enum":
            for i in rng.sample(range(ROWS), 20):
                column[i] = "not_a_value"
        columns[fact.name] = column
    path = tmp_path_factory.mktemp("cohort") / "cohort.parquet"
    pq.write_table(pa.table(columns), path, row_group_size=ROW_GROUP)
    return path


def duckdb_run(policy: m.Policy, path: Path, **kw: Any) -> stream.DuckDBRun:
    reader = CohortReader(path, "parquet", 20_000)
    layout = Layout(policy, "parquet", "id", reader.columns, False)
    return stream.DuckDBRun(policy, layout, reader, threads=2, **kw)


def setting(con: Any, name: str) -> Any:
    return con.sql(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_connection_settings_reach_duckdb() -> None:
    con = engine.connect(threads=2, memory_limit="300MB")
    unordered = engine.connect(scan_order=False)
    default = duckdb.connect(":memory:")
    reference = duckdb.connect(":memory:")
    try:
        reference.execute("SET memory_limit = '300MB'")
        assert setting(con, "threads") == 2
        assert setting(con, "memory_limit") == setting(reference, "memory_limit")
        assert setting(con, "preserve_insertion_order") is True
        assert "in_clause" in setting(con, "disabled_optimizers")
        for statement in engine.SCAN_ORDER_SETTINGS:
            reference.execute(statement)
            name = statement.removeprefix("SET ").split("=")[0].strip()
            assert setting(con, name) == setting(reference, name) != setting(default, name)
            assert setting(unordered, name) == setting(default, name)
    finally:
        for connection in (con, unordered, default, reference):
            connection.close()


def test_run_batch_passes_memory_limit_and_threads(
    bundled: m.Policy, cohort: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Any, ...]] = []
    connect = engine.connect

    def spy(*args: Any) -> Any:
        con = connect(*args)
        seen.append((setting(con, "threads"), setting(con, "memory_limit")))
        return con

    monkeypatch.setattr(stream, "connect", spy)
    options = BatchOptions(
        cohort=cohort, out=tmp_path / "o.parquet", engine="duckdb", jobs=2, memory_limit="300MB"
    )
    run_batch(bundled, options)
    reference = duckdb.connect(":memory:")
    reference.execute("SET memory_limit = '300MB'")
    assert seen == [(2, setting(reference, "memory_limit"))]
    reference.close()


def test_multithreaded_stream_needs_no_reordering(
    bundled: m.Policy, cohort: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two threads over many row groups, DuckDB streams the results in scan order, so the
    reorder buffer never holds a row; and batches are fetched small and written gathered."""
    run = duckdb_run(bundled, cohort, batch_rows=1_000, output_rows=5_000)
    fetched: list[int] = []
    counted = stream.counted

    def spy(batches: Any, *args: Any) -> Any:
        for batch in counted(batches, *args):
            fetched.append(batch.num_rows)
            yield batch

    monkeypatch.setattr(stream, "counted", spy)
    outputs = list(run.run())
    assert run.waiting.peak == 0
    assert fetched and max(fetched) <= 1_000
    sizes = [o.results.num_rows + len(o.problems) for o in outputs]
    assert all(size >= 5_000 for size in sizes[:-1])
    rows = [r for o in outputs for r in o.results.column("row").to_pylist()]
    rows += [p.row for o in outputs for p in o.problems]
    assert sorted(rows) == list(range(1, ROWS + 1))
    written = [r for o in outputs for r in o.results.column("row").to_pylist()]
    assert written == sorted(written)
    assert sum(len(o.problems) for o in outputs) > 0  # the `NOT IN` checks ran


def test_scan_order_does_not_change_results(bundled: m.Policy, cohort: Path) -> None:
    """The same results and rejected rows with DuckDB's `IN` rewrite (stream out of order, put
    back in order by `in_row_order`) and without it."""

    def collected(scan_order: bool) -> tuple[Any, list[tuple[int, str | None, str, str]]]:
        outputs = list(duckdb_run(bundled, cohort, scan_order=scan_order).run())
        table = pa.concat_tables([o.results for o in outputs])
        problems = [(p.row, p.id, p.code, p.reason) for o in outputs for p in o.problems]
        return table, problems

    ordered, ordered_problems = collected(True)
    reordered, reordered_problems = collected(False)
    assert ordered.equals(reordered)
    assert ordered_problems == reordered_problems
    assert ordered.column("row").to_pylist() == sorted(ordered.column("row").to_pylist())


def test_reorder_buffer_reports_what_waits() -> None:
    def batch(rows: list[int]) -> Any:
        return pa.RecordBatch.from_pydict({"row": pa.array(rows, pa.int64())})

    waiting = stream.Waiting()
    in_order = [batch([1, 2, 3]), batch([4, 5]), batch([6])]
    assert sum(len(pieces) for pieces, _ in stream.in_row_order(in_order, deque(), waiting)) == 3
    assert waiting.peak == 0

    waiting = stream.Waiting()
    rejected = deque([Problem(3, None, "LR507", "bad")])
    shuffled = [batch([6, 7]), batch([4, 5]), batch([1, 2]), batch([8])]
    seen = []
    for pieces, problems in stream.in_row_order(shuffled, rejected, waiting):
        found = [r for p in pieces for r in p.column("row").to_pylist()]
        seen += sorted(found + [p.row for p in problems])
    assert seen == list(range(1, 9))
    assert waiting.peak == 4  # rows 6, 7, 4 and 5 waited for row 1
    assert waiting.rows == 0


def test_batches_made_ahead_keep_order_errors_and_early_stops() -> None:
    import threading

    made: list[int] = []

    def batches(fail_at: int | None) -> Any:
        for number in range(10):
            if number == fail_at:
                raise ValueError("broken batch")
            made.append(number)
            yield number

    assert list(stream.ahead(batches(None), 2)) == list(range(10))
    with pytest.raises(ValueError, match="broken batch"):
        list(stream.ahead(batches(4), 2))
    made.clear()
    early = stream.ahead(batches(None), 2)
    assert next(early) == 0
    early.close()  # the caller stops: the thread stops too, a few batches ahead at most
    assert not any(t.name == "leukorules-duckdb" for t in threading.enumerate())
    assert len(made) <= 4
