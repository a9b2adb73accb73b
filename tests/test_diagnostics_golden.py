"""Golden tests: `leukorules check` output for every diagnostic a policy can trigger.

Each case is a file `tests/diagnostics/NAME.rules` or a folder `tests/diagnostics/NAME/` (a
multi-file policy, checked as a folder). `NAME.expected` beside it holds exactly what
`leukorules check tests/diagnostics/NAME...` prints when run from the repository root; a few
cases also have `NAME.expected.json`, the `--format json` output. `pytest --update-golden`
rewrites the expected files from the current output; review the diff before committing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
from support.cli import leukorules
from support.golden import Golden

from leukorules.diagnostics import Code

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "diagnostics"

# Cases that also have a JSON golden (`--format json`).
JSON_CASES = ("lr405_conflicting_derivations", "syntax_many_errors", "include_cycle")

# Cases named `..._without_solver` are checked as without the `prove` extra (no Z3).
WITHOUT_SOLVER = "_without_solver"

# Codes a policy can trigger that no golden file covers, and why.
NOT_IN_GOLDEN = {
    "LR101": "needs a file over 8 MB; tests/test_robustness.py covers it",
}


def case_names() -> list[str]:
    names = {p.stem for p in CASES.glob("*.rules")} | {
        p.name for p in CASES.iterdir() if p.is_dir()
    }
    return sorted(names)


def target(name: str) -> str:
    path = CASES / name
    relative = path if path.is_dir() else path.with_suffix(".rules")
    return relative.relative_to(REPO).as_posix()


def run_check(name: str, *options: str) -> tuple[str, int]:
    hidden = {"z3": None} if name.endswith(WITHOUT_SOLVER) else {}
    with mock.patch.dict(sys.modules, hidden):
        result = leukorules("check", target(name), *options, env={"COLUMNS": "100"})
    return result.stdout, result.exit_code


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("name", case_names())
def test_text_output(name: str, golden: Golden) -> None:
    output, status = run_check(name)
    golden.check(CASES / f"{name}.expected", output)
    summary = output.rstrip("\n").splitlines()[-1]
    errors = int(re.search(r": (\d+) errors?", summary).group(1))  # type: ignore[union-attr]
    assert status == (1 if errors else 0), (status, summary)
    # no traceback, no raw parser vocabulary
    assert "Traceback" not in output
    assert not re.search(r"\$END|__ANON|\bRBRACE\b|\bLBRACE\b|\bSIGNED_NUMBER\b", output)


@pytest.mark.parametrize("name", JSON_CASES)
def test_json_output(name: str, golden: Golden) -> None:
    output, status = run_check(name, "--format", "json")
    document = json.loads(output)
    assert isinstance(document, list) and document
    assert status == (1 if any(d["severity"] == "error" for d in document) else 0)
    golden.check(CASES / f"{name}.expected.json", output)


def test_json_and_text_report_the_same_diagnostics() -> None:
    for name in JSON_CASES:
        text, _ = run_check(name)
        document = json.loads(run_check(name, "--format", "json")[0])
        for diagnostic in document:
            span = diagnostic["span"]
            head = f"{span['file']}:{span['line']}:{span['column']}: {diagnostic['severity']}: "
            assert f"{head}{diagnostic['message']}  [{diagnostic['code']}]" in text


def test_every_policy_diagnostic_code_has_a_golden_case() -> None:
    covered: set[str] = set()
    for expected in CASES.glob("*.expected"):
        covered.update(re.findall(r"\[(LR\d{3})\]$", expected.read_text(encoding="utf-8"), re.M))
    policy_codes = {code for code in Code if code[2] in "12346"}
    missing = policy_codes - covered - set(NOT_IN_GOLDEN)
    assert not missing, f"no golden case triggers {sorted(missing)}"


def test_multi_error_files_report_many_diagnostics_in_one_run() -> None:
    for name, at_least in (
        ("syntax_many_errors", 10),
        ("semantic_many_errors", 10),
        ("syntax_errors_in_two_files", 3),
    ):
        output, status = run_check(name)
        assert status == 1
        assert len(re.findall(r"^\S+:\d+:\d+: error: ", output, re.M)) >= at_least, name


def test_every_case_file_is_used() -> None:
    """Every expected file belongs to a case, so a renamed case leaves nothing stale behind."""
    names = set(case_names())
    for path in CASES.iterdir():
        if path.is_file() and path.suffix != ".rules":
            stem = path.name.removesuffix(".json").removesuffix(".expected")
            assert stem in names, f"{path.name} belongs to no case"


# Modules whose diagnostics are all declared in `leukorules.messages`; `check/analysis.py` is
# still being converted.
DECLARED_ONLY = ("leukorules/syntax", "leukorules/check", "leukorules/reading.py")
NOT_CONVERTED_YET = {"leukorules/check/analysis.py"}


def test_front_end_diagnostics_are_all_declared_in_the_message_registry() -> None:
    """The parser and the checker report only messages of `leukorules.messages`: no module of
    theirs writes a diagnostic of its own (`Diagnostic.make`) or names a code itself."""
    written = re.compile(r"""Diagnostic\.make|\bCode\.LR\d|["']LR\d{3}["']""")
    files: list[Path] = []
    for name in DECLARED_ONLY:
        path = REPO / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    assert len(files) > 10
    found = [
        f"{file.relative_to(REPO).as_posix()}:{number}: {line.strip()}"
        for file in files
        if file.relative_to(REPO).as_posix() not in NOT_CONVERTED_YET
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
        if written.search(line)
    ]
    assert not found, "\n".join(found)
