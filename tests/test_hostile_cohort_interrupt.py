"""An interrupted `batch` run leaves every output as it was, or complete and new: never half.

Each test starts a real run in a fresh process on a cohort large enough to take seconds, waits
until the results are being written (the temporary file beside the target has data in it), then
sends SIGINT or SIGTERM. The old results, errors and summary files must be intact, byte for byte,
no temporary file may be left, and the process must say so and exit with 128 + the signal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.policies import adults_with_pml_policy

pytest.importorskip("duckdb")

POLICY = adults_with_pml_policy('policy hostile.interrupt { title "Interrupt" version "1.0" }')
# Large enough that a run is still writing when the signal arrives: the duckdb engine writes its
# first 50,000 results at once, and the whole run takes several seconds on a busy 2-core machine.
ROWS = 250_000
OLD = {"r.jsonl": b"old results\n", "r.errors.jsonl": b"old errors\n", "s.json": b"{}\n"}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    path = folder / "c.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(ROWS):
            diagnosis = "pml" if i % 3 else "adem"
            handle.write(json.dumps({"id": f"p{i}", "diagnosis": diagnosis, "age": i % 121}))
            handle.write("\n")
    (folder / "p.rules").write_text(POLICY, encoding="utf-8")
    return path


def temporary_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("engine", "jobs", "signum"),
    [
        ("python", "1", signal.SIGINT),
        ("python", "2", signal.SIGTERM),  # a pool of worker processes to stop as well
        ("duckdb", "2", signal.SIGTERM),
        ("duckdb", "1", signal.SIGINT),
    ],
    ids=["python-SIGINT", "python-pool-SIGTERM", "duckdb-SIGTERM", "duckdb-SIGINT"],
)
def test_a_run_killed_while_writing_leaves_the_old_outputs_and_no_temporary_file(
    cohort: Path, tmp_path: Path, engine: str, jobs: str, signum: signal.Signals
) -> None:
    for name, content in OLD.items():
        (tmp_path / name).write_bytes(content)
    args = [sys.executable, "-m", "leukorules", "batch", str(cohort)]
    args += ["--policy", str(cohort.parent / "p.rules"), "--engine", engine, "--jobs", jobs]
    args += ["--out", "r.jsonl", "--summary-json", "s.json", "--chunk-rows", "1000"]
    run = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    writing = False
    while run.poll() is None and time.monotonic() < deadline:
        results = [p for p in temporary_files(tmp_path) if p.name.startswith(".r.jsonl.")]
        if results and results[0].stat().st_size > 0:
            writing = True
            break
        time.sleep(0.02)
    assert writing, f"the run never started writing (status {run.poll()})"
    run.send_signal(signum)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 128 + signum, stderr
    assert f"stopped by {signum.name}" in stderr
    assert "Traceback" not in stderr
    assert "leaked" not in stderr  # the worker pool was shut down, not abandoned
    for name, content in OLD.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert temporary_files(tmp_path) == []


def test_a_run_that_completes_replaces_every_output_whole(cohort: Path, tmp_path: Path) -> None:
    """The other half of the promise, on a cohort cut to 2,000 rows."""
    small = tmp_path / "small.jsonl"
    with cohort.open(encoding="utf-8") as handle:
        small.write_text("".join(next(handle) for _ in range(2000)), encoding="utf-8")
    for name, content in OLD.items():
        (tmp_path / name).write_bytes(content)
    args = [sys.executable, "-m", "leukorules", "batch", str(small), "--jobs", "1"]
    args += ["--policy", str(cohort.parent / "p.rules"), "--out", "r.jsonl", "--summary-json"]
    done = subprocess.run([*args, "s.json"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 2000
    assert (tmp_path / "r.errors.jsonl").read_bytes() == b""
    assert json.loads((tmp_path / "s.json").read_text())["rows"]["evaluated"] == 2000
    assert temporary_files(tmp_path) == []


# A run whose engine turns the signal's exception into its own, as DuckDB does (a SIGINT or
# SIGTERM arriving while a query runs comes out as RuntimeError "Query interrupted"): the signal
# arrives once every record was written to the temporary files, then the library's error.
SWALLOWED = """
import os, signal, sys, time
import leukorules.cohort.runner as runner
evaluate = runner._evaluate
def swallowing(*args, **kwargs):
    evaluate(*args, **kwargs)
    try:
        os.kill(os.getpid(), getattr(signal, os.environ["SIGNAL"]))
        time.sleep(30)
    except BaseException:
        raise RuntimeError("Query interrupted")
runner._evaluate = swallowing
from leukorules.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_an_engine_turns_into_its_own_error_still_stops_the_run_cleanly(
    cohort: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    small = tmp_path / "small.jsonl"
    with cohort.open(encoding="utf-8") as handle:
        small.write_text("".join(next(handle) for _ in range(100)), encoding="utf-8")
    for name, content in OLD.items():
        (tmp_path / name).write_bytes(content)
    args = [sys.executable, "-c", SWALLOWED, "batch", str(small), "--jobs", "1", "--out"]
    args += ["r.jsonl", "--summary-json", "s.json", "--policy", str(cohort.parent / "p.rules")]
    done = subprocess.run(
        args,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "SIGNAL": signum.name},
        timeout=120,
    )
    assert done.returncode == 128 + signum, done.stderr
    assert f"stopped by {signum.name}" in done.stderr
    assert "Traceback" not in done.stderr
    for name, content in OLD.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert temporary_files(tmp_path) == []
