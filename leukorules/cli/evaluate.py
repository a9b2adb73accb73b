"""`leukorules evaluate` and `leukorules explain`: one patient's facts against a policy.

FACTS is a facts file (JSON or YAML) or a FHIR R4 health record (a Bundle or one resource,
recognised by its `resourceType`; `leukorules.cli.records` reads both); `--with` adds facts files
to either. For a record, the result carries the provenance of every fact.

Exit status: 0 evaluated; 1 bad policy or bad facts (every diagnostic on stderr, nothing on
stdout); 2 usage error, including an `explain` RULE_ID that names no rule or gap of the policy
(reported like any other bad argument, with a "did you mean").
Facts are health data: they are printed only as part of the output that was asked for, never in
diagnostics beyond the offending value, never as code frames of the facts file.
"""

from __future__ import annotations

import dataclasses
import datetime
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from leukorules.cli.common import (
    EXIT_OK,
    collector_resting_throughout,
    echo_default_policy_note,
    fail,
    load_or_exit,
    policy_paths,
    use_color,
)
from leukorules.cli.records import as_of_option, evaluation_date, patient_facts, with_option

if TYPE_CHECKING:
    from leukorules.engine.compile import CompiledPolicy
    from leukorules.engine.facts import ValidatedFacts
    from leukorules.prove.what_if import Hypothesis
    from leukorules.report import Format
    from leukorules.result.model import Evaluation

FORMAT_CHOICE = click.Choice(["text", "json", "markdown"])
POLICY_HELP = "Policy file or folder (repeatable); default: the bundled leukoencephalopathy policy."


def _compiled(paths: tuple[Path, ...]) -> CompiledPolicy:
    """The checked, compiled policy: from the per-user disk cache when it is certainly current
    (see `leukorules.cache`), else checked in full (and then cached)."""
    from leukorules import cache

    echo_default_policy_note(paths, err=True)  # stdout is the report, unchanged
    given = policy_paths(paths)
    cached = cache.load_cached(given)
    if cached is not None:
        return cached
    from leukorules.engine.compile import compile_policy

    result = load_or_exit(given)
    assert result.policy is not None
    compiled = compile_policy(result.policy, result.sources)
    cache.store(given, compiled)
    return compiled


# --- decision log and HTML report (owned with leukorules.audit / leukorules.report.html) -------

EVALUATE_FORMAT_CHOICE = click.Choice(["text", "json", "markdown", "html"])


def _audit_options(function: Any) -> Any:
    """--log DB (or $LEUKORULES_LOG), --user, --case, --redact."""
    options = [
        click.option(
            "--log",
            "log",
            envvar="LEUKORULES_LOG",
            show_envvar=True,
            type=click.Path(path_type=Path, dir_okay=False),
            help="Append the decision to this decision log (SQLite; created if missing). "
            "If it cannot be logged, nothing is printed and the exit status is 1.",
        ),
        click.option("--user", metavar="LABEL", help="User label stored with the logged decision."),
        click.option("--case", metavar="LABEL", help="Case label stored with the logged decision."),
        click.option(
            "--redact",
            is_flag=True,
            help="Log only the facts' sha256, not the facts (replay then needs the facts file).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


_policy_option = click.option(
    "--policy",
    "policy",
    multiple=True,
    type=click.Path(path_type=Path),
    help=POLICY_HELP,
)


def _require_log_for_log_flags(
    log: Path | None, user: str | None, case: str | None, redact: bool
) -> None:
    """Usage errors first, before any policy or facts work: they are the caller's mistake."""
    if log is not None:
        return
    for flag, given in (("--user", user is not None), ("--case", case is not None)):
        if given:
            raise click.UsageError(f"{flag} labels a logged decision; give --log DB too")
    if redact:
        raise click.UsageError("--redact applies to a logged decision; give --log DB too")


def _log_or_exit(
    log: Path | None,
    evaluation: Evaluation,
    values: ValidatedFacts,
    compiled: CompiledPolicy,
    user: str | None,
    case: str | None,
    redact: bool,
) -> None:
    if log is None:
        return
    from leukorules.audit import AuditError, log_decision

    try:
        row = log_decision(log, evaluation, values, compiled.sources, user, case, redact)
    except AuditError as error:
        fail(f"{error}; the decision was not logged, so it is not shown")
    click.echo(f"leukorules: logged as decision #{row.seq} in {log}", err=True)


@click.command()
@click.argument("facts", metavar="FACTS")
@_policy_option
@click.option(
    "--format",
    "output_format",
    type=EVALUATE_FORMAT_CHOICE,
    default="text",
    show_default=True,
    help="text for a clinician at a terminal, json for programs, markdown for auditors, "
    "html for one self-contained file to archive (includes the trace).",
)
@click.option(
    "--trace", is_flag=True, help="Add every rule's outcome and why the others did not fire."
)
@click.option(
    "--what-if",
    "what_if",
    multiple=True,
    metavar="FACT=VALUE",
    help="Also show what would change if FACT were VALUE (repeatable; each on its own), "
    "e.g. --what-if plasma_exchange_response=not_responding.",
)
@with_option
@as_of_option
@_audit_options
@collector_resting_throughout
def evaluate(
    facts: str,
    policy: tuple[Path, ...],
    output_format: str,
    trace: bool,
    what_if: tuple[str, ...],
    with_files: tuple[Path, ...],
    as_of: datetime.datetime | None,
    log: Path | None,
    user: str | None,
    case: str | None,
    redact: bool,
) -> None:
    """Evaluate one patient's FACTS: a JSON or YAML facts file, or a FHIR R4 health record (a
    Bundle or one resource, as JSON); - reads stdin.

    Absent or null facts are unknown, never false: rules they would decide are listed as
    undetermined together with the facts that would decide them. For a record, the report
    shows beside each fact the resource that supplied it.

    Exit status: 0 evaluated, 1 bad policy, facts or record (diagnostics on stderr), 2 usage
    error (or the fhir extra is not installed).
    """
    _require_log_for_log_flags(log, user, case, redact)
    if what_if and output_format == "html":
        raise click.UsageError("--what-if is shown in the text, markdown and json formats")
    compiled = _compiled(policy)
    hypotheses = _hypotheses(compiled, what_if)
    loaded = patient_facts(compiled, facts, with_files, evaluation_date(as_of))
    values = loaded.values
    color = output_format == "text" and use_color(sys.stdout)
    from leukorules.report import render

    evaluation = compiled.evaluate(values, trace=trace or output_format == "html")
    # The decision log keeps what the engine decided (replay re-evaluates the facts); the
    # provenance describes the record the facts were read from.
    _log_or_exit(log, evaluation, values, compiled, user, case, redact)
    if loaded.record is not None:
        evaluation = dataclasses.replace(evaluation, provenance=loaded.record.to_result())
    if output_format == "html":
        from leukorules.report.html import render_html

        click.echo(render_html(evaluation, compiled.policy, values), nl=False)
        sys.exit(EXIT_OK)
    # click.echo strips ANSI codes off non-terminals unless told: FORCE_COLOR must work too
    text = render(evaluation, cast("Format", output_format), color=color)
    if hypotheses:
        from leukorules.prove import what_if as consequences

        results = [consequences.what_if(compiled, values, h) for h in hypotheses]
        if output_format == "json":
            text = consequences.wrap_json(text, results)
        elif output_format == "markdown":
            text += consequences.render_markdown(results, compiled.policy)
        else:
            text += consequences.render_text(results, compiled.policy)
    click.echo(text, nl=False, color=color)
    sys.exit(EXIT_OK)


def _hypotheses(compiled: CompiledPolicy, written: tuple[str, ...]) -> list[Hypothesis]:
    """The `--what-if` hypotheses; a malformed one is a usage error."""
    if not written:
        return []
    from leukorules.prove.what_if import HypothesisError, parse_hypothesis

    try:
        return [parse_hypothesis(text, compiled.policy) for text in written]
    except HypothesisError as error:
        raise click.BadParameter(str(error), param_hint="--what-if") from None


@click.command()
@click.argument("facts", metavar="FACTS")
@click.argument("rule_id", metavar="RULE_ID")
@_policy_option
@click.option(
    "--format",
    "output_format",
    type=FORMAT_CHOICE,
    default="text",
    show_default=True,
    help="text, json or markdown.",
)
@with_option
@as_of_option
@collector_resting_throughout
def explain(
    facts: str,
    rule_id: str,
    policy: tuple[Path, ...],
    output_format: str,
    with_files: tuple[Path, ...],
    as_of: datetime.datetime | None,
) -> None:
    """Explain, step by step, why RULE_ID fired, did not fire or is undetermined for FACTS
    (a facts file or a FHIR R4 record, as for `evaluate`).

    RULE_ID may also name a guideline gap. An id the policy does not have is a usage error
    (exit status 2).

    Exit status: 0 explained, 1 bad policy or facts, 2 usage error.
    """
    from leukorules.diagnostics import did_you_mean
    from leukorules.report import render_explanation

    compiled = _compiled(policy)
    known = (*compiled.rule_ids, *compiled.gap_ids)
    if rule_id not in known:
        hint = did_you_mean(rule_id, known)
        message = f"policy {compiled.policy.id} has no rule or gap `{rule_id}`"
        raise click.BadParameter(
            f"{message}; {hint}" if hint else f"{message} (it has {len(known)} rules and gaps)",
            param_hint="RULE_ID",
        )
    values = patient_facts(compiled, facts, with_files, evaluation_date(as_of)).values
    explanation = compiled.explain(values, rule_id)
    color = output_format == "text" and use_color(sys.stdout)
    text = render_explanation(explanation, cast("Format", output_format), color=color)
    click.echo(text, nl=False, color=color)
    sys.exit(EXIT_OK)
