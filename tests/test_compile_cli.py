"""`leukorules compile --emit ...`: the compiled forms of the bundled policy, kept as golden files
that a reviewer reads in `git diff` (regenerate with `pytest --update-golden`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import leukorules
from support.golden import Golden

GOLDEN = Path(__file__).parent / "golden" / "compiled"


@pytest.mark.parametrize(("emit", "name"), [("python", "policy.py")])
def test_the_bundled_policy_compiles_to_its_golden_form(
    emit: str, name: str, golden: Golden
) -> None:
    result = leukorules("compile", "--emit", emit)
    assert result.exit_code == 0, result.output
    golden.check(GOLDEN / name, result.stdout)


def test_the_sql_printed_is_the_reviewed_query() -> None:
    """`tests/golden/compiled/policy.sql` is `render_sql`'s golden copy (`test_sql_render`):
    the command prints it under its header."""
    result = leukorules("compile", "--emit", "sql")
    assert result.exit_code == 0, result.output
    header, _, body = result.stdout.partition("regenerates it from the policy\n")
    assert header.startswith("-- leukorules compile --emit sql: policy leukoencephalopathy")
    assert body == (GOLDEN / "policy.sql").read_text(encoding="utf-8")


def test_the_generated_python_is_the_code_that_runs() -> None:
    from leukorules import load_policy

    source = (GOLDEN / "policy.py").read_text(encoding="utf-8")
    assert load_policy().source in source


def test_compile_writes_a_file_and_refuses_a_bad_policy(tmp_path: Path) -> None:
    out = tmp_path / "policy.py"
    result = leukorules("compile", "-o", str(out))
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("# leukorules")
    bad = tmp_path / "bad.rules"
    bad.write_text("policy x {\n", encoding="utf-8")
    result = leukorules("compile", str(bad))
    assert result.exit_code == 1
    assert "LR112" in result.stderr
