"""The cohort's row diagnostics are declared once, in `leukorules.messages` (`ROW_*`).

No module of `leukorules.cohort` writes a diagnostic code or a reason of its own: codes come from
messages, and every reason the engines write for a rejected row is built from message templates.
"""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from leukorules import messages
from leukorules.diagnostics import Message

REPO = Path(__file__).resolve().parent.parent
COHORT = REPO / "leukorules" / "cohort"
GOLDEN = REPO / "tests" / "golden" / "cohort"
CODE = re.compile(r"\bLR\d{3}\b")
ROW_MESSAGES = {
    name: value
    for name, value in vars(messages).items()
    if name.startswith("ROW_") and isinstance(value, Message)
}


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the string constants that are docstrings."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


@pytest.mark.parametrize("path", sorted(COHORT.glob("*.py")), ids=lambda p: p.name)
def test_no_code_literals_in_the_cohort_package(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            assert not CODE.search(node.value), f"{path.name}:{node.lineno}: {node.value!r}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not (node.value.id == "Code" and CODE.fullmatch(node.attr)), (
                f"{path.name}:{node.lineno}: Code.{node.attr}; report a message of "
                "leukorules.messages instead"
            )


def test_every_row_message_is_used_by_the_cohort_package() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in COHORT.glob("*.py"))
    unused = [name for name in ROW_MESSAGES if not re.search(rf"\b{name}\b", source)]
    assert not unused
    assert all(m.code.startswith("LR5") for m in ROW_MESSAGES.values())


def template_pattern(template: str) -> str:
    parts = []
    for text, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(text))
        if field is not None:
            parts.append(".+?")
    return "".join(parts)


def test_every_reason_the_cohort_writes_is_made_of_row_messages() -> None:
    """The errors files of the golden runs (`test_cohort_batch`): every reason of the duckdb
    engine, and of the python engine where the row is malformed (the rest of its reasons are
    `leukorules.engine.facts`'s), is row messages joined by "; "."""
    one = "(?:" + "|".join(template_pattern(m.text) for m in ROW_MESSAGES.values()) + ")"
    reasons = re.compile(f"{one}(?:; {one})*")
    checked = 0
    for path in sorted(GOLDEN.glob("*.txt")):
        errors = path.read_text(encoding="utf-8").split("--- summary\n")[0]
        for line in errors.splitlines():
            row = json.loads(line)
            if path.stem.endswith("-python") and row["codes"] != ["LR507"]:
                continue
            assert reasons.fullmatch(row["reason"]), (path.name, row)
            checked += 1
    assert checked > 40
