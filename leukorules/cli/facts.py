"""`leukorules facts`: the facts a health record (and `--with` files) yields, with provenance.

Output, `--format yaml` (the default): a facts file, every input fact of the policy on a line
(null where nothing gives it), each preceded by a comment saying which resource gave it or why it
stays unknown; facts no code can carry are listed last, with their description. It is what a
clinician checks before trusting an evaluation, and a ready facts file: complete the nulls and
pass it back (`leukorules evaluate facts.yaml`, or `evaluate record.json --with facts.yaml`).
`--format json`: `{"patient", "facts", "provenance"}` for programs.

Exit status: 0 printed; 1 bad policy, record or facts (diagnostics on stderr, nothing on
stdout); 2 usage error, or the fhir extra is not installed.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from leukorules.cli.common import EXIT_OK
from leukorules.cli.evaluate import POLICY_HELP, _compiled
from leukorules.cli.records import as_of_option, evaluation_date, gathered_facts, with_option

if TYPE_CHECKING:
    from leukorules import model as m
    from leukorules.fhir.provenance import FactProvenance, RecordFacts

WIDTH = 100


@click.command()
@click.argument("facts", metavar="FACTS")
@click.option(
    "--policy", "policy", multiple=True, type=click.Path(path_type=Path), help=POLICY_HELP
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: a facts file with each fact's source as a comment; json: facts and provenance.",
)
@with_option
@as_of_option
def facts(
    facts: str,
    policy: tuple[Path, ...],
    output_format: str,
    with_files: tuple[Path, ...],
    as_of: datetime.datetime | None,
) -> None:
    """Print the facts FACTS yields (a FHIR R4 record as JSON, or a facts file; - reads stdin),
    with the source of each.

    Exit status: 0 printed, 1 bad policy, record or facts (diagnostics on stderr), 2 usage
    error (or the fhir extra is not installed).
    """
    compiled = _compiled(policy)
    date = evaluation_date(as_of)
    record = gathered_facts(compiled, facts, with_files, date)
    name = "<stdin>" if facts == "-" else facts
    if output_format == "json":
        click.echo(json.dumps(record.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(facts_yaml(record, compiled.policy, name, date), nl=False)
    sys.exit(EXIT_OK)


def facts_yaml(record: RecordFacts, policy: m.Policy, name: str, as_of: datetime.date) -> str:
    """The record's facts as a facts file with comments (see the module docstring)."""
    header = (
        f"Facts from {name}, read with the terminology bindings of policy {policy.id} "
        f"{policy.version} as of {as_of.isoformat()}. Above each fact: the source that gave it, "
        "or why it is unknown. Replace a null with the value you know, then evaluate this file."
    )
    lines = [*_comment([header]), ""]
    inputs = [fact for fact in policy.facts.values() if not fact.derived]
    given = [fact for fact in inputs if fact.name in record.provenance]
    rest = [fact for fact in inputs if fact.name not in record.provenance]
    for fact in given:
        lines.extend(_comment(_source_lines(record.provenance[fact.name])))
        lines.append(_line(fact.name, record.facts.get(fact.name)))
    if rest:
        lines += ["", "# --- facts no code of the record can carry: the clinician's judgement ---"]
    for fact in rest:
        if fact.description:
            lines.extend(_comment([f"{fact.description} ({fact.type.describe()})"]))
        lines.append(_line(fact.name, None))
    return "\n".join(lines) + "\n"


def _source_lines(found: FactProvenance) -> list[str]:
    if found.value is None:
        return [f"unknown: {found.reason or 'no source gives it'}"]
    from leukorules.report.common import source_text

    return [
        e.reason
        if e.source.resource_type == "facts file"
        else f"{source_text(e.source.to_result())}: {e.reason}"
        for e in found.evidence
        if e.value == found.value
    ]


def _comment(texts: list[str]) -> list[str]:
    import textwrap

    out: list[str] = []
    for text in texts:
        single = " ".join(text.split())  # a record's text never breaks the comment
        out += textwrap.wrap(
            single,
            WIDTH,
            initial_indent="# ",
            subsequent_indent="#   ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return out


def _line(name: str, value: object) -> str:
    import yaml

    text: str = yaml.safe_dump(
        {name: value}, default_flow_style=True, allow_unicode=True, width=10**9
    )
    return text.strip().removeprefix("{").removesuffix("}")
