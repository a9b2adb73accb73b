"""One patient's facts for a command, from a facts file or a FHIR health record, plus `--with`.

Input: the FACTS argument (a JSON or YAML facts file, a FHIR R4 record as JSON, or `-` for
stdin), the `--with` facts files, the evaluation date (`--as-of`) and the compiled policy.
Output: `PatientFacts`, the validated facts and, for a record, the `RecordFacts` with the
provenance of every fact; or every problem on stderr and exit status 1 (2 when reading FHIR needs
the `fhir` extra, which is not installed).

A FHIR record is recognised by its content (a JSON object with a `resourceType`), never by a
flag. A plain facts file without `--with` is read exactly as before. Two sources that give one
fact two values are an error naming both, and nothing is evaluated. Diagnostics show where a
problem is, never a code frame of the patient's file.
"""

from __future__ import annotations

import datetime
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from leukorules.cli.common import EXIT_USAGE, fail, use_color

if TYPE_CHECKING:
    from leukorules.diagnostics import Diagnostic
    from leukorules.engine.compile import CompiledPolicy
    from leukorules.engine.facts import ValidatedFacts
    from leukorules.engine.facts_file import FactsDocument
    from leukorules.fhir.provenance import RecordFacts

WITH_HELP = (
    "Facts file (JSON or YAML) whose facts are added to FACTS: the clinician's judgement no "
    "code carries (repeatable). A fact two sources give different values is an error."
)
AS_OF_HELP = (
    "Evaluation date, YYYY-MM-DD (default: today): a FHIR Observation older than its binding "
    "allows no longer speaks of the patient now."
)
# Records are read whole; the fhir package refuses anything larger.
_READ_LIMIT = 64 * 1024 * 1024 + 1


@dataclass(frozen=True)
class PatientFacts:
    """Validated facts, and where they came from when a record (or `--with`) gave them."""

    values: ValidatedFacts
    record: RecordFacts | None


def as_of_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--as-of",
        "as_of",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help=AS_OF_HELP,
    )(function)


def with_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--with",
        "with_files",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help=WITH_HELP,
    )(function)


def evaluation_date(value: datetime.datetime | None) -> datetime.date:
    return value.date() if value is not None else datetime.date.today()


def _read(facts: str) -> tuple[str, bytes | None]:
    """The input's name and bytes; None when it is not a readable file (the facts reader says
    why, as it always has)."""
    if facts == "-":
        try:
            return "<stdin>", sys.stdin.buffer.read(_READ_LIMIT)
        except OSError:
            return "<stdin>", None
    path = Path(facts)
    if not path.is_file():
        return facts, None
    try:
        with path.open("rb") as handle:
            return facts, handle.read(_READ_LIMIT)
    except OSError:
        return facts, None


def _problems_exit(problems: Sequence[Diagnostic], what: str) -> NoReturn:
    from leukorules.diagnostics import render_text

    color = use_color(sys.stderr)
    click.echo(render_text(list(problems), {}, color=color), err=True, nl=False, color=color)
    count = len(problems)
    fail(f"{what}: {count} problem{'s' if count != 1 else ''}; nothing was evaluated")


def _facts_document(name: str, stdin: bytes | None = None) -> FactsDocument:
    """A facts file's raw mapping, or its problems and exit 1."""
    from leukorules.engine.facts_file import load_facts_file

    stream = io.BytesIO(stdin) if stdin is not None else None
    raw, problems = load_facts_file(name, stdin=stream)
    if raw is None:
        label = "facts on stdin" if name == "-" else f"facts file {name}"
        _problems_exit(problems, label)
    return raw


def record_facts(
    compiled: CompiledPolicy,
    facts: str,
    with_files: Sequence[Path] = (),
    as_of: datetime.date | None = None,
) -> tuple[RecordFacts | None, dict[str, object] | None, bytes | None]:
    """The facts of FACTS and the `--with` files before validation: the merged `RecordFacts`
    when FACTS is a record or files are added, else (None, None, the bytes read) for the plain
    facts path. Problems (invalid FHIR, disagreeing sources) end the command."""
    name, raw = _read(facts)
    data = text = None
    if raw is not None:
        try:
            text = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            text = None
    if text is not None:
        from leukorules.fhir.reading import record_data

        data = record_data(text)
    if data is None and not with_files:
        return None, None, raw
    from leukorules.fhir import FhirExtraMissing, map_record_data, with_facts
    from leukorules.fhir.provenance import RecordFacts

    if data is not None and text is not None:
        try:
            record = map_record_data(data, text, name, compiled.policy, as_of)
        except FhirExtraMissing as error:
            fail(str(error), EXIT_USAGE)
    else:
        given = _facts_document(facts, raw if facts == "-" else None)
        record = with_facts(RecordFacts({}, {}), name, given)
    for path in with_files:
        record = with_facts(record, str(path), _facts_document(str(path)))
    if any(d.severity.label == "error" for d in record.diagnostics):
        _problems_exit(record.diagnostics, f"record {name}" if data is not None else name)
    return record, data, raw


def patient_facts(
    compiled: CompiledPolicy,
    facts: str,
    with_files: Sequence[Path] = (),
    as_of: datetime.date | None = None,
) -> PatientFacts:
    """Validated facts from FACTS (and `--with`), or every problem on stderr and exit."""
    record, data, raw = record_facts(compiled, facts, with_files, as_of)
    given: dict[str, object]
    if record is None:
        given = _facts_document(facts, raw if facts == "-" else None)
    else:
        given = dict(record.facts)
    values, problems = compiled.check_facts(given)
    if values is None:
        name = "facts on stdin" if facts == "-" else f"facts file {facts}"
        if data is not None:
            name = f"facts of record {'<stdin>' if facts == '-' else facts}"
        _problems_exit(problems, name)
    return PatientFacts(values, record if data is not None else None)


def gathered_facts(
    compiled: CompiledPolicy,
    facts: str,
    with_files: Sequence[Path] = (),
    as_of: datetime.date | None = None,
) -> RecordFacts:
    """The facts of FACTS (a record or a facts file) and the `--with` files, each with its
    provenance, checked against the policy; or every problem on stderr and exit."""
    record, data, raw = record_facts(compiled, facts, with_files, as_of)
    name = "<stdin>" if facts == "-" else facts
    if record is None:
        from leukorules.fhir import with_facts
        from leukorules.fhir.provenance import RecordFacts

        document = _facts_document(facts, raw if facts == "-" else None)
        record = with_facts(RecordFacts({}, {}), name, document)
    values, problems = compiled.check_facts(dict(record.facts))
    if values is None:
        _problems_exit(problems, f"facts of {'record ' if data is not None else ''}{name}")
    return record
