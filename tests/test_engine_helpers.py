"""Helpers for the engine tests (no tests here): small policies checked from text."""

from __future__ import annotations

import json
import subprocess
import sys

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


def cli_in_a_fresh_process(args: list[str]) -> tuple[str, list[str]]:
    """`leukorules ARGS` run in a new interpreter (exit status 0 required): what it printed, and
    the `pydantic*` modules it imported on the way."""
    script = (
        "import json, sys\n"
        "from leukorules.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pydantic'))\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, modules
