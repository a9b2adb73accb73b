"""Small policies checked from text, for tests of every stage after the checker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from leukorules import model as m
from leukorules.check import check_paths, check_text
from leukorules.diagnostics import Diagnostic, Severity
from leukorules.engine.compile import CompiledPolicy, compile_policy

HEADER = """\
policy test.policy { title "Test policy" version "1.0" }
evidence 1 { citation "Doe J. A trial. 2020" grade strong certainty moderate }
evidence 2 { citation unknown }
"""


def adults_with_pml_policy(policy_line: str, more_facts: str = "") -> str:
    """The smallest cohort policy, under its `policy` line: facts `diagnosis` and `age` (and
    `more_facts`, declaration lines), one rule: adults with PML get A."""
    return (
        f"{policy_line}\n"
        'evidence 1 { citation "A study" }\n'
        "fact diagnosis: enum {pml, adem}\n"
        "fact age: integer in 0..120\n"
        f"{more_facts}"
        'section "S" {\n'
        "  rule r.adult {\n"
        '    statement "Adults with PML get A." evidence 1\n'
        "    when diagnosis == pml and age >= 18\n"
        '    recommend "Do A"\n'
        "  }\n"
        "}\n"
    )


def _no_errors(diagnostics: Sequence[Diagnostic], shown: str) -> None:
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    assert not errors, "\n".join(f"{d.code} {d.span}: {d.message}" for d in errors) + shown


def checked(text: str, path: str = "p.rules") -> m.Policy:
    """A whole policy's text, checked: it must have no error (warnings are fine)."""
    result = check_text(text, path)
    _no_errors(result.diagnostics, "\n" + text)
    assert result.policy is not None
    return result.policy


def checked_paths(*paths: Path) -> m.Policy:
    """A policy folder (or files), checked: it must have no error."""
    result = check_paths(list(paths))
    _no_errors(result.diagnostics, "")
    assert result.policy is not None
    return result.policy


def checked_rules(body: str, header: str = HEADER) -> m.Policy:
    """Declarations and rules under a standard header (a policy and evidence 1 and 2)."""
    return checked(header + body)


def compiled_rules(body: str, header: str = HEADER) -> CompiledPolicy:
    return compile_policy(checked_rules(body, header))


def rule(rule_id: str, when: str | None, conclusion: str = "note", extra: str = "") -> str:
    """A rule block; `when` None means no condition."""
    condition = f"  when {when}\n" if when is not None else ""
    return (
        f'rule {rule_id} {{\n  statement "Statement of {rule_id}."\n  evidence 1\n'
        f"{condition}  {conclusion}\n{extra}}}\n"
    )


def every_construct_policy() -> CompiledPolicy:
    """A small policy with a derived fact, sequencing, precedence, a section and a gap."""
    return compiled_rules(
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


def every_fact_kind_policy() -> m.Policy:
    """A fact of every kind (a unit and a range included), read by one rule, and a derived fact
    (a field name of pydantic's, `model_config`, among the facts)."""
    facts = """\
fact age: integer in 0..120
fact weight: number [kg] in 1..400
fact sex: enum {female, male}
fact fever: bool
fact symptoms: set of {headache, seizure, ataxia}
fact onset: date
fact note: string
fact model_config: bool
derived risk: enum {low, high}
"""
    uses = (
        "risk == high or sex == female or fever or symptoms contains seizure"
        ' or onset < 2024-01-01 or note == "x" or weight > 100 [kg] or model_config'
    )
    return checked_rules(
        facts + rule("risk.high", "age >= 65", "derive risk = high") + rule("uses", uses)
    )


# A small policy with two properties, one of which fails (age > 60 gives IVIG without a failed
# plasma exchange): the prove tests of the library and of the CLI share it.
PROVE_DEMO_POLICY = """\
policy demo.prove { title "Prove" version "1.0" }
evidence 1 { citation "Example guideline, 2024" }
fact kind: enum { adem, pml, other } "Type"
fact response: enum { responding, not_responding } "Response to plasma exchange"
fact age: integer in 0..120 "Age"
rule steroids { statement "s" evidence 1 when kind == adem recommend "Steroids" }
rule ivig {
  statement "s"
  evidence 1
  when kind == adem and (response == not_responding or age > 60)
  recommend "IVIG"
}
property ivig.needs_failure {
  "IVIG only after plasma exchange failed"
  for every patient: ivig fired implies response == not_responding
}
property steroids.adem {
  "ADEM gets steroids"
  for every patient: kind == adem implies steroids fired
}
"""
