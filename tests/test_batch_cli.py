"""`leukorules batch` through the command line: output, exit codes, clear messages."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from support.cli import leukorules
from support.policies import adults_with_pml_policy

POLICY = adults_with_pml_policy('policy cli.cohort { title "CLI cohort" version "2.0" }')


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    policy = tmp_path / "p.rules"
    policy.write_text(POLICY, encoding="utf-8")
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(
        "\n".join(
            [
                '{"id": "p1", "diagnosis": "pml", "age": 30}',
                '{"id": "p2", "diagnosis": "pml"}',
                '{"id": "p3", "diagnosis": "adem", "age": 300}',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return {"policy": policy, "cohort": cohort, "dir": tmp_path}


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_batch_writes_results_and_prints_summary(files: dict[str, Path], engine: str) -> None:
    pytest.importorskip("duckdb")
    out = files["dir"] / "r.jsonl"
    summary_json = files["dir"] / "s.json"
    result = leukorules(
        "batch",
        str(files["cohort"]),
        "--out",
        str(out),
        "--policy",
        str(files["policy"]),
        "--engine",
        engine,
        "--jobs",
        "1",
        "--summary-json",
        str(summary_json),
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "rows: 3 read, 2 evaluated, 1 rejected" in text
    assert "LR505 value outside declared range: 1" in text
    assert "r.adult: Do A" in text
    assert "missing: age 1" in text
    assert "\r" not in text  # no progress bar when the output is not a terminal
    # JSON Lines end in "\n" only (str.splitlines would also split inside a value at U+0085)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
    assert [(r["id"], r["fired"], r["undetermined"]) for r in records] == [
        ("p1", ["r.adult"], []),
        ("p2", [], ["r.adult"]),
    ]
    errors = (files["dir"] / "r.errors.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert json.loads(errors[0])["row"] == 3
    data = json.loads(summary_json.read_text())
    assert data["rows"] == {"read": 3, "evaluated": 2, "rejected": 1}
    assert data["rules"][0]["missing"] == [{"fact": "age", "patients": 1}]


def test_unreadable_cohort_is_a_clear_error(files: dict[str, Path]) -> None:
    missing = files["dir"] / "nope.jsonl"
    result = leukorules("batch", str(missing), "--out", str(files["dir"] / "r.jsonl"))
    assert result.exit_code == 1
    assert "leukorules: error:" in result.output
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_unknown_extension_and_missing_out(files: dict[str, Path]) -> None:
    result = leukorules("batch", str(files["cohort"]), "--out", str(files["dir"] / "r.txt"))
    assert result.exit_code == 1
    assert "name it .jsonl or .parquet" in result.output
    result = leukorules("batch", str(files["cohort"]))
    assert result.exit_code == 2


def test_policy_with_errors_exits_1(files: dict[str, Path]) -> None:
    broken = files["dir"] / "broken.rules"
    broken.write_text('policy x { title "t" version "1" }\nrule r { when nope recommend "a" }\n')
    out = str(files["dir"] / "r.jsonl")
    result = leukorules("batch", str(files["cohort"]), "--out", out, "--policy", str(broken))
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("duckdb", ["--engine", "duckdb"]),
        ("numpy", ["--engine", "duckdb"]),
        ("pyarrow", ["--engine", "python"]),
    ],
)
def test_missing_optional_dependency(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, module: str, args: list[str]
) -> None:
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    out = files["dir"] / ("r.parquet" if module == "pyarrow" else "r.jsonl")
    result = leukorules(
        "batch", str(files["cohort"]), "--out", str(out), "--policy", str(files["policy"]), *args
    )
    assert result.exit_code == 1, result.output
    assert f"needs the `{module}` package" in result.output
    assert "leukorules[cohort]" in result.output


def test_progress_shows_on_a_terminal() -> None:
    from leukorules.cohort.runner import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = Progress(total=10, stream=stream)
    progress.advance(5)
    progress.finish()
    assert "5/10 rows" in stream.getvalue()
    quiet = io.StringIO()
    silent = Progress(total=10, stream=quiet)
    silent.advance(5)
    silent.finish()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("jobs", ["0", "1025", "100000"])
def test_jobs_outside_1_to_1024_are_refused_before_anything_starts(
    files: dict[str, Path], jobs: str
) -> None:
    out = files["dir"] / "r.jsonl"
    result = leukorules(
        "batch",
        str(files["cohort"]),
        "--out",
        str(out),
        "--policy",
        str(files["policy"]),
        "--jobs",
        jobs,
    )
    assert result.exit_code == 2, result.output
    assert "--jobs" in result.output and "1<=x<=1024" in result.output
    assert not out.exists()
