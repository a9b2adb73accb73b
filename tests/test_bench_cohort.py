"""`benchmarks/bench_cohort.py` runs end to end on a tiny cohort and reports each run beside the
hand-written loop: the ratios of the medians and of each round. No timing is judged here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_cohort.py"


def test_the_cohort_benchmark_reports_every_run_with_its_ratios(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    out = tmp_path / "results.md"
    args = ["--rows", "200", "--rounds", "2", "--no-10m", "--data", str(tmp_path / "data")]
    run = subprocess.run(
        [sys.executable, str(BENCH), *args, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = [line for line in out.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    header, *runs = rows
    assert "per round (median, range)" in header
    assert [r.split(" | ")[0].lstrip("| ") for r in runs] == [
        "hand-written loop (json.loads + decide), JSON Lines",
        "duckdb engine, JSON Lines -> Parquet",
        "duckdb engine, Parquet -> Parquet",
    ]
    for row in runs:
        assert "failed" not in row
        low, high = map(float, re.findall(r"\((\d+\.\d+)x-(\d+\.\d+)x\)", row)[0])
        assert low <= high
    assert not (tmp_path / "data").exists()  # deleted without --keep
