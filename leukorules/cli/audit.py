"""`leukorules audit`: verify, list, show and replay the decisions in a decision log.

Every subcommand only reads the log (it is opened read-only and never created). Facts are never
printed unless asked for (`show --facts`, `show --result`, `replay --show-diff`). What a log
holds is not trusted: control characters in it (from a tampered row, or a policy string) are
escaped before they reach the terminal, in text (`\x1b`) and JSON (`\u001b`, the same value)
alike, and a row whose JSON columns are unreadable is named, never a traceback.
Exit status: 0 success (an intact chain, a reproduced decision), 1 a finding or bad input (a
broken chain, a decision not reproduced, a missing or foreign log, an unknown decision), 2 usage.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import click

from leukorules.audit import AuditError, DecisionLog, Query, Row, open_log, result_summary
from leukorules.cli.common import EXIT_BAD_INPUT, fail
from leukorules.diagnostics import printable  # as error messages escape

DB_HELP = "The decision log (SQLite file); default: $LEUKORULES_LOG."


def _db_option(function: Any) -> Any:
    return click.option(
        "--db",
        "db",
        envvar="LEUKORULES_LOG",
        show_envvar=True,
        required=True,
        type=click.Path(path_type=Path, dir_okay=True),
        help=DB_HELP,
    )(function)


def _format_option(function: Any) -> Any:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="text for people, json for tools.",
    )(function)


class DecisionId(click.ParamType):  # type: ignore[type-arg]
    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"#?(\d{1,18})", str(value).strip())
        if match is None or int(match.group(1)) < 1:
            self.fail(f"{value!r} is not a decision number (1, 2, 3, ... as `audit list` shows)")
        return int(match.group(1))


class UtcMoment(click.ParamType):  # type: ignore[type-arg]
    """A date (YYYY-MM-DD, a whole UTC day) or an ISO date-time (UTC unless an offset is given)."""

    name = "DATE"

    def __init__(self, end_of_day: bool) -> None:
        self.end_of_day = end_of_day

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                day = datetime.date.fromisoformat(text)
                if self.end_of_day:
                    day += datetime.timedelta(days=1)
                moment = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
            else:
                moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=datetime.UTC)
        except ValueError:
            self.fail(f"{text!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[:SS])")
        return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@click.group()
def audit() -> None:
    """Verify, list, show and replay the decisions of a decision log.

    Decisions are logged by `leukorules evaluate --log DB` (or with $LEUKORULES_LOG set).
    """


def _open(db: Path) -> DecisionLog:
    try:
        return open_log(db)
    except AuditError as error:
        fail(str(error))


# --- verify ------------------------------------------------------------------------------------


@audit.command()
@_db_option
@click.option(
    "--anchor",
    metavar="SHA256",
    help="A row hash printed by an earlier verify and kept elsewhere; it must still be in the "
    "chain (proves the log was not rewritten or cut short since).",
)
@_format_option
def verify(db: Path, anchor: str | None, output_format: str) -> None:
    """Recompute the hash chain; name the first altered, inserted or deleted row.

    Exit status: 0 the chain is intact, 1 it is broken (or the log cannot be read).
    """
    from leukorules.audit.verify import verification_json, verify_log

    if anchor is not None and not re.fullmatch(r"[0-9a-f]{64}", anchor.strip().lower()):
        raise click.BadParameter("an anchor is a 64-digit hex sha256", param_hint="--anchor")
    try:
        report = verify_log(db, anchor.strip().lower() if anchor else None)
    except AuditError as error:
        fail(str(error))
    if output_format == "json":
        click.echo(verification_json(report))
    elif report.ok:
        click.echo(f"decision log {db}: {report.rows} row(s) checked, hash chain intact")
        click.echo(f"  head: #{report.head_seq} sha256 {report.head_hash}")
        if report.anchor_row is not None:
            click.echo(f"  anchor found at row #{report.anchor_row}")
        elif report.rows:
            click.echo(
                "  keep the head hash outside this file and give it later with --anchor to "
                "prove the log was not rewritten"
            )
    else:
        click.echo(f"decision log {db}: BROKEN: {report.problem}")
        click.echo(f"  {report.rows} row(s) checked before the break")
    if not report.ok:
        raise SystemExit(EXIT_BAD_INPUT)


# --- list --------------------------------------------------------------------------------------


def _terminal(text: str) -> str:
    """Text for the terminal: every control or format character escaped, line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


# What `json.dumps` leaves raw may still act on a terminal: DEL, C1 controls, format characters
# (bidirectional overrides) and line or paragraph separators. Only non-ASCII characters and DEL
# are candidates (json.dumps escapes the C0 controls itself).
_RAW_CANDIDATE = re.compile("[\x7f-\U0010ffff]")
_ACTS_ON_TERMINALS = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _escape_acting(found: re.Match[str]) -> str:
    char = found[0]
    if unicodedata.category(char) not in _ACTS_ON_TERMINALS:
        return char
    return json.dumps(char)[1:-1]  # \u escapes (a surrogate pair above U+FFFF)


def _terminal_json(text: str) -> str:
    """JSON for the terminal: characters a terminal could act on written as \\u escapes. The
    same JSON value, and the same bytes for a log without such characters."""
    return _RAW_CANDIDATE.sub(_escape_acting, text)


def _echo_json(value: object) -> None:
    click.echo(_terminal_json(json.dumps(value, indent=2, ensure_ascii=False)))


def _row_json(row: Row) -> dict[str, object]:
    summary = result_summary(row)
    if not summary["readable"]:
        raise AuditError(str(summary["problem"]))
    return {
        "id": row.seq,
        "logged_at": row.logged_at,
        "user": row.user,
        "case": row.case,
        "policy": {"id": row.policy_id, "version": row.policy_version, "sha256": row.policy_sha256},
        "facts_sha256": row.facts_sha256,
        "redacted": row.redacted,
        "engine_version": row.engine_version,
        "engine_code_sha256": row.engine_code,
        "fired": row.fired_rules(),
        "recommendations": summary["recommendations"],
        "notes": summary["notes"],
        "undetermined": summary["undetermined"],
        "row_sha256": row.row_hash,
    }


@audit.command(name="list")
@_db_option
@click.option("--since", type=UtcMoment(False), help="Logged on or after this UTC date/time.")
@click.option(
    "--until",
    type=UtcMoment(True),
    help="On or before this UTC date (whole day), or before this date-time.",
)
@click.option("--policy", "policy_id", metavar="ID", help="Only this policy id.")
@click.option("--policy-version", metavar="VERSION", help="Only this policy version.")
@click.option("--fired", metavar="RULE", help="Only decisions in which this rule fired.")
@click.option("--user", metavar="LABEL", help="Only decisions logged with this user label.")
@click.option("--case", metavar="LABEL", help="Only decisions logged with this case label.")
@click.option(
    "--last", metavar="N", type=click.IntRange(min=1), help="Only the last N matching decisions."
)
@_format_option
def list_(
    db: Path,
    since: str | None,
    until: str | None,
    policy_id: str | None,
    policy_version: str | None,
    fired: str | None,
    user: str | None,
    case: str | None,
    last: int | None,
    output_format: str,
) -> None:
    """List logged decisions, oldest first (no fact values are shown)."""
    query = Query(since, until, policy_id, policy_version, fired, user, case, last)
    damaged: list[str] = []
    with _open(db) as log:
        try:
            if output_format == "json":
                rows = [_row_json(row) for row in log.rows(query)]
                _echo_json({"decisions": rows})
                return
            table: list[tuple[str, ...]] = [
                ("#", "logged (UTC)", "user", "case", "policy", "facts", "recommendations")
            ]
            for row in log.rows(query):
                summary = result_summary(row)
                recommendations = summary["recommendations"]
                assert isinstance(recommendations, list)
                if not summary["readable"]:
                    damaged.append(str(summary["problem"]))
                cells = (
                    str(row.seq),
                    row.logged_at[:19].replace("T", " "),
                    row.user or "-",
                    row.case or "-",
                    f"{row.policy_id} {row.policy_version}",
                    row.facts_sha256[:12] + (" (redacted)" if row.redacted else ""),
                    ", ".join(recommendations) or "-"
                    if summary["readable"]
                    else "(result unreadable)",
                )
                table.append(tuple(printable(cell) for cell in cells))
        except AuditError as error:
            fail(str(error))
    for problem in damaged:
        click.echo(f"leukorules: warning: {printable(problem)}", err=True)
    if len(table) == 1:
        click.echo("no decisions match")
        return
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    click.echo(f"{len(table) - 1} decision(s)")


# --- show --------------------------------------------------------------------------------------


@audit.command()
@click.argument("decision", type=DecisionId())
@_db_option
@click.option("--facts", "with_facts", is_flag=True, help="Also print the stored facts.")
@click.option(
    "--result",
    "with_result",
    is_flag=True,
    help="Also print the full result JSON (it holds fact values).",
)
@_format_option
def show(decision: int, db: Path, with_facts: bool, with_result: bool, output_format: str) -> None:
    """Show one logged decision: who, when, which policy, what fired, its hashes."""
    with _open(db) as log:
        try:
            row = log.row(decision)
        except AuditError as error:
            fail(str(error))
    try:
        _show(row, with_facts, with_result, output_format)
    except AuditError as error:
        fail(str(error))
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):
        fail(
            f"decision #{row.seq} cannot be shown: its stored result or facts are unreadable "
            "(the row was altered); run `leukorules audit verify`"
        )


def _show(row: Row, with_facts: bool, with_result: bool, output_format: str) -> None:
    intact = row.computed_hash() == row.row_hash
    if output_format == "json":
        data = _row_json(row)
        data["prev_sha256"] = row.prev_hash
        data["row_hash_ok"] = intact
        data["policy"] = {**data["policy"], "sources": [s.to_json() for s in row.sources()]}  # type: ignore[dict-item]
        if with_facts:
            data["facts"] = row.facts_value()
        if with_result:
            data["result"] = row.result_value()
        _echo_json(data)
        return
    _show_text(row, intact, with_facts, with_result)


def _show_text(row: Row, intact: bool, with_facts: bool, with_result: bool) -> None:
    out: list[str] = []

    def line(label: str, value: str) -> None:
        out.append(f"  {label:<16} {value}")

    out.append(f"decision #{row.seq}")
    line("logged at", f"{row.logged_at} (UTC)")
    line("user", row.user or "-")
    line("case", row.case or "-")
    line("policy", f"{row.policy_id} {row.policy_version}")
    line("policy sha256", row.policy_sha256)
    for index, source in enumerate(row.sources()):
        line("source" if index == 0 else "", f"{source.rel}  sha256 {source.sha256}")
    if row.redacted:
        line("facts sha256", f"{row.facts_sha256} (redacted: only the hash was kept)")
    else:
        line("facts sha256", f"{row.facts_sha256} (facts stored; print them with --facts)")
    line("engine", f"{row.engine_version} (code sha256 {row.engine_code})")
    summary = result_summary(row)
    result: Any = row.result_value()  # AuditError naming the row when unreadable
    recommendations = result.get("recommendations", []) if isinstance(result, dict) else []
    if recommendations:
        out.append("  recommendations")
        for entry in recommendations:
            strength = entry.get("strength", {}).get("label", "")
            out.append(f"    - {entry.get('rule')}: {entry.get('action')} ({strength})")
    notes = summary["notes"]
    assert isinstance(notes, list)
    line("notes", ", ".join(notes) or "-")
    undetermined = result.get("undetermined", []) if isinstance(result, dict) else []
    if undetermined:
        out.append("  undetermined")
        for entry in undetermined:
            missing = ", ".join(entry.get("missing", [])) or "-"
            out.append(f"    - {entry.get('rule')} (missing: {missing})")
    line("fired rules", ", ".join(row.fired_rules()) or "-")
    line("result", f"{len(row.result.encode('utf-8'))} bytes (print it with --result)")
    line("previous row", row.prev_hash)
    line("row sha256", row.row_hash + ("" if intact else "  ALTERED: does not match the content"))
    if with_facts:
        out.append("facts:")
        if row.facts is None:
            out.append("  (redacted: not stored)")
        else:
            out.append(json.dumps(row.facts_value(), indent=2, ensure_ascii=False))
    if with_result:
        out.append("result:")
        out.append(row.result)
    click.echo(_terminal("\n".join(out)))


# --- replay ------------------------------------------------------------------------------------


@audit.command()
@click.argument("decision", type=DecisionId())
@_db_option
@click.option(
    "--facts",
    "facts_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="For a redacted decision: the patient's facts file (must hash to the logged value).",
)
@click.option("--show-diff", is_flag=True, help="On a mismatch, also print the differing values.")
def replay(decision: int, db: Path, facts_file: Path | None, show_diff: bool) -> None:
    """Re-run a decision with its stored policy text and facts; compare byte for byte.

    Exit status: 0 reproduced exactly, 1 not reproduced (or the decision cannot be replayed).
    """
    from leukorules.audit.replay import replay_decision

    facts = None
    if facts_file is not None:
        from leukorules.engine.facts_file import load_facts_file

        document, problems = load_facts_file(facts_file)
        if document is None:
            fail("; ".join(p.message for p in problems) or f"cannot read {facts_file}")
        facts = document
    with _open(db) as log:
        try:
            outcome = replay_decision(log, decision, facts)
        except AuditError as error:
            fail(str(error))
    size = len(outcome.row.result.encode("utf-8"))
    if outcome.reproduced:
        click.echo(
            f"decision #{decision}: reproduced: the replayed result is byte-identical to the "
            "logged one"
        )
        click.echo(f"  result sha256 {outcome.logged_sha256} ({size} bytes)")
    else:
        # the difference names keys of the logged result, which a forger may have written
        click.echo(f"decision #{decision}: NOT reproduced: {printable(outcome.difference or '')}")
        if show_diff and outcome.difference_values:
            click.echo(f"  {printable(outcome.difference_values)}")
        click.echo(f"  logged result sha256   {outcome.logged_sha256} ({size} bytes)")
        if outcome.replayed_sha256:
            click.echo(f"  replayed result sha256 {outcome.replayed_sha256}")
    for note in outcome.notes:
        click.echo(f"  note: {note}")
    if not outcome.reproduced:
        raise SystemExit(EXIT_BAD_INPUT)
