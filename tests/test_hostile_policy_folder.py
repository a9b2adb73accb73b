"""Commands run without a policy path say which policy folder they used.

After a plain `pip install .` an author editing `policies/` in a checkout got the installed
copy's results, with nothing saying so. Now `check`, `fmt`, `test`, `coverage` and `evaluate`
(and `explain`) name the folder: on the first line of a text output, on stderr where stdout is
machine-readable or a report whose bytes must not change. With a path given, nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import leukorules

from leukorules.cli import common
from leukorules.syntax.grammar import bundled_policy_dir

FOLDER = bundled_policy_dir()
NOTE = f"policy folder: {FOLDER} (the bundled policy)"
PATIENT = Path(__file__).resolve().parent.parent / "examples" / "patients"


@pytest.mark.parametrize(
    "args", [("check",), ("test",), ("coverage",)], ids=["check", "test", "coverage"]
)
def test_text_outputs_name_the_folder_on_their_first_line(args: tuple[str, ...]) -> None:
    result = leukorules(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == NOTE


def test_check_json_keeps_its_bytes_and_says_it_on_stderr() -> None:
    defaulted = leukorules("check", "--format", "json")
    explicit = leukorules("check", "--format", "json", str(FOLDER))
    assert defaulted.stdout == explicit.stdout
    json.loads(defaulted.stdout)
    assert defaulted.stderr.splitlines() == [NOTE]
    assert explicit.stderr == ""


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_coverage_json_and_markdown_say_it_on_stderr(fmt: str) -> None:
    defaulted = leukorules("coverage", "--format", fmt)
    explicit = leukorules("coverage", "--format", fmt, str(FOLDER))
    assert defaulted.stdout == explicit.stdout
    assert NOTE in defaulted.stderr and NOTE not in explicit.stderr


def test_fmt_says_it_on_stderr() -> None:
    result = leukorules("fmt", "--check")  # (its exit status says whether the files are formatted)
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == NOTE


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_evaluate_keeps_its_report_and_says_it_on_stderr(fmt: str) -> None:
    patient = str(PATIENT / "adem-steroid-nonresponder.yaml")
    defaulted = leukorules("evaluate", patient, "--format", fmt)
    explicit = leukorules("evaluate", patient, "--format", fmt, "--policy", str(FOLDER))
    assert defaulted.exit_code == explicit.exit_code == 0
    assert defaulted.stdout == explicit.stdout
    assert defaulted.stderr.splitlines() == [NOTE]
    assert explicit.stderr == ""


def test_explain_says_it_on_stderr_too() -> None:
    result = leukorules("explain", "-", "adem.ivig", stdin="{}")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [NOTE]


def test_a_path_given_means_no_note() -> None:
    for args in (("check", str(FOLDER)), ("test", str(FOLDER)), ("coverage", str(FOLDER))):
        assert "policy folder:" not in leukorules(*args).output


def test_the_installed_copy_says_how_to_use_a_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = tmp_path / "site-packages" / "leukorules" / "_data" / "policies" / "x"
    monkeypatch.setattr(common, "bundled_policy_dir", lambda: installed)
    note = common.default_policy_note(None)
    assert note == (
        f"policy folder: {installed} (the copy installed with leukorules; to use a checkout's "
        "policies/, install it with `pip install -e .` or give the folder)"
    )
    assert common.default_policy_note([FOLDER]) is None
