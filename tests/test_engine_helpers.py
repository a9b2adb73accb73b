"""Helpers for the engine tests (no tests here): small policies checked from text."""

from __future__ import annotations

from leukorules import model as m
from leukorules.check import check_text
from leukorules.engine.compile import CompiledPolicy, compile_policy

HEADER = """\
policy test.policy { title "Test policy" version "1.0" }
evidence 1 { citation "Doe J. A trial. 2020" grade strong certainty moderate }
evidence 2 { citation unknown }
"""


def checked(body: str, header: str = HEADER) -> m.Policy:
    result = check_text(header + body)
    errors = [f"{d.span}: {d.message}" for d in result.diagnostics if d.severity.label == "error"]
    assert result.policy is not None, errors
    return result.policy


def compiled(body: str, header: str = HEADER) -> CompiledPolicy:
    return compile_policy(checked(body, header))


def rule(rule_id: str, when: str | None, conclusion: str = "note", extra: str = "") -> str:
    """A rule block; `when` None means no condition."""
    condition = f"  when {when}\n" if when is not None else ""
    return (
        f'rule {rule_id} {{\n  statement "Statement of {rule_id}."\n  evidence 1\n'
        f"{condition}  {conclusion}\n{extra}}}\n"
    )


def every_construct_policy() -> CompiledPolicy:
    """A small policy with a derived fact, sequencing, precedence, a section and a gap."""
    return compiled(
        "fact age: integer in 0..120\nfact onset: date\nfact symptoms: set of {a, b}\n"
        "derived band: enum {young, old}\n"
        + rule("band.old", "age >= 65", "derive band = old")
        + rule("band.young", "age < 65", "derive band = young")
        + 'section "Care" {\n'
        + rule("care.first", "band == old", 'recommend "First"\n  strength first_line')
        + rule("care.next", "symptoms contains a", 'recommend "Next"', "  after care.first\n")
        + rule("care.stop", "onset < 2020-01-01", "caution", "  overrides care.next\n")
        + "}\n"
        + "gap gap.young { when band == young }\n"
    )
