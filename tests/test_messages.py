"""Every diagnostic message, declared once in `leukorules.messages`, listed in one golden file
(`tests/golden/messages.txt`): a change of wording, a new message or a changed code shows in
review, whichever stage reports it. No other module writes a code of its own."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from support.golden import Golden

from leukorules import messages
from leukorules.diagnostics import Code, Message

REPO = Path(__file__).resolve().parent.parent
MESSAGES = {n: v for n, v in sorted(vars(messages).items()) if isinstance(v, Message)}


def listing() -> str:
    lines = []
    for name, message in sorted(MESSAGES.items(), key=lambda item: (item[1].code, item[0])):
        severity = (message.severity or message.code.severity).label
        lines.append(f"{message.code} {severity:7} {name}")
        lines.append(f"    text: {message.text}")
        if message.hint is not None:
            lines.append(f"    hint: {message.hint}")
    return "\n".join(lines) + "\n"


def test_every_message_is_in_the_golden_listing(golden: Golden) -> None:
    golden.check(REPO / "tests" / "golden" / "messages.txt", listing())


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_templates_are_well_formed(name: str) -> None:
    """Every template parses as `str.format` (a stray brace would fail only when reported)."""
    message = MESSAGES[name]
    for template in (message.text, message.hint):
        if template is not None:
            list(string.Formatter().parse(template))


def test_no_module_writes_a_code_of_its_own() -> None:
    """`"LR123"` literals belong in `leukorules.messages` and `leukorules.diagnostics` only."""
    literal = re.compile(r"""["']LR\d{3}["']""")
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "leukorules").rglob("*.py")
        if "messages" not in path.parts
        and path.name != "diagnostics.py"
        and literal.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_code_a_message_uses_is_declared() -> None:
    assert {m.code for m in MESSAGES.values()} <= set(Code)
