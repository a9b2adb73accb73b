"""What `leukorules batch` does before a run to start quicker: the checked policy from the
per-user cache (the same policy a full check gives), and pyarrow told once that pandas is absent
(pandas itself still importable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leukorules.check import check_paths
from leukorules.cli.batch import checked_policy
from leukorules.cli.common import policy_paths


def test_the_cached_policy_is_the_checked_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("LEUKORULES_NO_CACHE", raising=False)
    checked = check_paths(policy_paths(())).policy
    assert checked is not None
    first = checked_policy(())  # checked in full, then cached
    assert list((tmp_path / "cache" / "leukorules").glob("*"))
    second = checked_policy(())  # from the cache
    assert first == checked
    assert second == checked
    assert [r.id for r in second.rules] == [r.id for r in checked.rules]


def test_a_cached_policy_is_read_without_the_compiled_evaluator(tmp_path: Path) -> None:
    """`batch` needs the policy, not the generated evaluator: reading it from the cache leaves
    the engine's compiler (and the result model it brings, about 45 ms) unimported."""
    code = (
        "import sys\n"
        "from leukorules.cli.batch import checked_policy\n"
        "policy = checked_policy(())\n"
        "assert policy.rules, 'no policy'\n"
        "print('leukorules.engine.compile' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("LEUKORULES_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
        )
        for _ in range(2)
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    # the first run checks, compiles and caches the policy; the second reads it
    assert [r.stdout.strip() for r in runs] == ["True", "False"]


def test_pyarrow_stops_looking_for_pandas_and_pandas_still_imports() -> None:
    pytest.importorskip("pyarrow")
    pytest.importorskip("pandas")
    code = (
        "import sys\n"
        "from leukorules.cli.batch import pyarrow_without_pandas\n"
        "pyarrow_without_pandas()\n"
        "import pyarrow as pa\n"
        "pa.array([1, 2]).to_pylist()\n"
        "assert 'pandas' not in sys.modules, 'pyarrow imported pandas'\n"
        "import pandas\n"
        "assert pa.table({'a': [1]}).to_pandas()['a'].tolist() == [1]\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_a_clean_parquet_run_leaves_pyarrow_compute_unimported(tmp_path: Path) -> None:
    """A Parquet cohort without a rejected row is read, evaluated and written without
    `pyarrow.compute` (about 50 ms of start-up): no cast of columns already in the results'
    types, no compute function on the rows' numbers."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("duckdb")
    from leukorules import load_policy

    policy = load_policy().policy
    columns: dict[str, object] = {"id": [f"p{i}" for i in range(30)]}
    for fact in policy.input_facts:  # unknown: no constraint can reject a row
        kind = pa.bool_() if fact.type.kind == "bool" else pa.string()
        columns[fact.name] = pa.array([None] * 30, kind)
    cohort = tmp_path / "cohort.parquet"
    pq.write_table(pa.table(columns), cohort)
    out = tmp_path / "out.parquet"
    code = (
        "import sys\n"
        "from leukorules.cli import main\n"
        "try:\n"
        f"    main(['batch', {str(cohort)!r}, '--out', {str(out)!r}, '--engine', 'duckdb'])\n"
        "finally:\n"
        "    print('pyarrow.compute imported:', 'pyarrow.compute' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "30 evaluated, 0 rejected" in run.stdout
    assert run.stdout.strip().endswith("pyarrow.compute imported: False")
    assert pq.read_table(out).num_rows == 30


def test_conformed_relabels_columns_of_the_same_types_and_casts_the_others() -> None:
    pa = pytest.importorskip("pyarrow")
    from leukorules.cohort.schema import conformed

    schema = pa.schema([pa.field("row", pa.int64(), nullable=False), ("id", pa.string())])
    table = pa.table({"row": pa.array([1, 2], pa.int64()), "id": ["a", None]})
    same = conformed(table, schema)
    assert same.schema == schema and same.equals(table.cast(schema))
    assert same.column("id").chunk(0).buffers() == table.column("id").chunk(0).buffers()
    narrow = pa.record_batch({"row": pa.array([1, 2], pa.int32()), "id": ["a", None]})
    widened = conformed(narrow, schema)
    assert isinstance(widened, pa.RecordBatch) and widened.schema == schema
    with pytest.raises(ValueError, match="non-nullable"):
        conformed(pa.table({"row": pa.array([1, None], pa.int64()), "id": ["a", "b"]}), schema)


@pytest.mark.parametrize("given", [None, "4"])
def test_commands_keep_openblas_to_one_thread_unless_told(given: str | None) -> None:
    """numpy's OpenBLAS pool spins threads a cohort run never uses (`leukorules.cli.main`);
    a user's own OPENBLAS_NUM_THREADS is kept."""
    code = (
        "import os\n"
        "from leukorules.cli import main\n"
        "try:\n"
        "    main(['check'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-1] == (given or "1")


GC_PROBE = """
import gc, json, sys
import leukorules.cli.batch as cli_batch
from leukorules.cohort import writers
seen = {"policy": [], "writes": []}
load = cli_batch.checked_policy
def checked_policy(paths):
    seen["policy"].append(gc.isenabled())
    return load(paths)
cli_batch.checked_policy = checked_policy
for name in ("write_arrow", "write_text"):
    original = getattr(writers.ResultsWriter, name)
    def probe(self, data, _original=original):
        seen["writes"].append([gc.isenabled(), gc.get_freeze_count() > 0])
        return _original(self, data)
    setattr(writers.ResultsWriter, name, probe)
from leukorules.cli import main
try:
    main(sys.argv[1:])
except SystemExit as end:
    seen["exit"] = end.code
seen["after"] = gc.isenabled()
print(json.dumps(seen))
"""


@pytest.mark.parametrize(
    ("engine", "out_name"), [("python", "out.jsonl"), ("duckdb", "out.parquet")]
)
def test_the_collector_rests_during_start_up_only(
    tmp_path: Path, engine: str, out_name: str
) -> None:
    """`collector_resting`: Python's garbage collector is off while the policy
    loads and the engine starts, on (start-up's objects frozen) while records are written, and
    on when the command is done."""
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text("".join(f'{{"id": "p{i}"}}\n' for i in range(5)), encoding="utf-8")
    args = ["batch", str(cohort), "--out", str(tmp_path / out_name), "--engine", engine]
    run = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args, "--jobs", "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["exit"] in (0, None), run.stdout
    assert seen["policy"] == [False]
    assert seen["writes"] and all(w == [True, True] for w in seen["writes"])
    assert seen["after"] is True


def test_the_collector_is_back_on_after_a_run_that_fails_at_start(tmp_path: Path) -> None:
    args = ["batch", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "out.jsonl")]
    run = subprocess.run(
        [sys.executable, "-c", GC_PROBE, *args], capture_output=True, text=True, check=False
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 1
    assert seen["policy"] == [False] and seen["writes"] == []
    assert seen["after"] is True


def test_run_batch_says_once_when_records_start_to_flow(tmp_path: Path) -> None:
    """`run_batch(started=...)` is called once, after start-up and before the first write."""
    from leukorules import load_policy
    from leukorules.cohort.runner import BatchOptions, run_batch
    from leukorules.cohort.writers import ResultsWriter

    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text('{"id": "p1"}\n{"id": "p2"}\n', encoding="utf-8")
    events: list[str] = []
    original = ResultsWriter.write_text

    def write_text(self: ResultsWriter, text: str) -> None:
        events.append("write")
        original(self, text)

    options = BatchOptions(cohort=cohort, out=tmp_path / "out.jsonl", jobs=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ResultsWriter, "write_text", write_text)
        summary = run_batch(load_policy().policy, options, started=lambda: events.append("go"))
    assert summary.counts.evaluated == 2
    assert events[0] == "go" and events.count("go") == 1 and "write" in events
