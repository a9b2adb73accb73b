"""The auditor's decision log: tamper-evident, replayable records of every logged evaluation.

Takes: an `Evaluation` with the facts and the policy sources that produced it. Gives: a row in a
SQLite decision log (one file, no server) and, later, proof about it: `verify` recomputes the
hash chain, `replay` re-runs a decision against the exact stored policy text and facts (through
`leukorules.check` and `leukorules.engine`) and compares the result JSON byte for byte.
Must never import: `leukorules.cli`, `leukorules.report`, `leukorules.cohort`.

What a row holds: time (UTC), optional user and case labels, policy id, version and sha256, the
policy's source files (stored once each, content-addressed by sha256, with their relative paths),
the facts' sha256 and the facts themselves (or, redacted, only the hash), the full result JSON,
the fired rule ids, the engine version, and the sha256 of the previous row and of the row itself.

The public functions of this package are what the CLI (`leukorules audit ...`, `leukorules
evaluate --log`) calls; everything raises `AuditError` with a message for people, never a
SQLite exception.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from leukorules.audit import sources as src
from leukorules.audit import store
from leukorules.audit.store import AuditError, Row, StoredSource

if TYPE_CHECKING:
    from leukorules.result.model import Evaluation

__all__ = [
    "AuditError",
    "CollectedSources",
    "DecisionAppender",
    "Row",
    "StoredSource",
    "collect_sources",
    "log_decision",
    "new_decision",
    "open_log",
]

LABEL_MAX = 200


class _HasText(Protocol):
    @property
    def text(self) -> str: ...


SourceContent = str | bytes | _HasText


# Parts of the package that do not compute results: changing them cannot change a decision.
_NOT_ENGINE = ("audit", "cli", "report", "cohort", "graph.py", "__main__.py")


@functools.cache
def engine_code_sha256() -> str:
    """sha256 over the code that computes results: every module of the package except the
    reporting, logging and command-line layers, plus the grammar. Two runs with the same
    fingerprint ran the same evaluator, even when a development build kept its version number.
    """
    from leukorules.syntax.grammar import grammar_text

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*.py")):
        relative = file.relative_to(package)
        if relative.parts[0] in _NOT_ENGINE or relative.parts[0] == "_data":
            continue
        digest.update(relative.as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    digest.update(b"grammar\0" + hashlib.sha256(grammar_text().encode("utf-8")).digest())
    return digest.hexdigest()


def _label(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > LABEL_MAX:
        raise AuditError(f"the {name} label is longer than {LABEL_MAX} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise AuditError(f"the {name} label contains control characters")
    return text


def _json_ready(value: object) -> object:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise AuditError(f"facts hold a value of type {type(value).__name__} that JSON cannot store")


def facts_json(facts: Mapping[str, object]) -> str:
    """The facts as stored: canonical JSON (sorted keys, ASCII), dates as YYYY-MM-DD."""
    try:
        return store.canonical_json(_json_ready(facts)).decode("ascii")
    except ValueError as error:  # NaN or infinity
        raise AuditError(f"facts cannot be stored as JSON: {error}") from None


def log_decision(
    db_path: str | Path,
    evaluation: Evaluation,
    facts: Mapping[str, object] | None,
    policy_sources: Mapping[str, SourceContent] | None,
    user: str | None = None,
    case: str | None = None,
    redact: bool = False,
) -> Row:
    """Append one decision to the log at `db_path` (created if missing) and return its row.

    `facts` are the facts as given (the raw document or the validated values); with `redact`
    only their sha256 (the evaluation's `facts_sha256`) is kept. `policy_sources` maps each
    source path listed in `evaluation.policy.sources` to its content (bytes, text, or an object
    with `.text` such as a `SourceFile`); None reads the files from disk. Either way every file
    must still hash to what the evaluation recorded.
    """
    path = Path(db_path)
    decision = new_decision(evaluation, facts, policy_sources, user, case, redact)
    connection = store.open_for_append(path)
    try:
        return store.append(connection, path, decision)
    finally:
        connection.close()


def new_decision(
    evaluation: Evaluation,
    facts: Mapping[str, object] | None,
    policy_sources: Mapping[str, SourceContent] | None,
    user: str | None = None,
    case: str | None = None,
    redact: bool = False,
    collected: CollectedSources | None = None,
) -> store.NewDecision:
    """The row `log_decision` appends, before it has a place in the chain (same arguments).
    `collected`, from `collect_sources` for an evaluation of the same policy, saves hashing
    the policy's files again for each decision of a long-running process."""
    if not redact and facts is None:
        raise AuditError("no facts given to log; pass the facts or log with redact=True")
    if collected is None or collected.listed != _listed(evaluation):
        collected = collect_sources(evaluation, policy_sources)
    return store.NewDecision(
        user=_label("user", user),
        case=_label("case", case),
        policy_id=evaluation.policy.id,
        policy_version=evaluation.policy.version,
        policy_sha256=evaluation.policy.sha256,
        sources=collected.stored,
        source_content=collected.contents,
        facts_sha256=evaluation.facts_sha256,
        facts=None if redact or facts is None else facts_json(facts),
        result=evaluation.to_json(),
        fired=[rule for rule, outcome in evaluation.outcomes.items() if outcome == "fired"],
        engine_version=evaluation.engine.version,
        engine_code=engine_code_sha256(),
    )


@dataclass(frozen=True, slots=True)
class CollectedSources:
    """A policy's source files as the log stores them (`collect_sources`)."""

    listed: tuple[tuple[str, str], ...]
    stored: tuple[StoredSource, ...]
    contents: Mapping[str, bytes]


def _listed(evaluation: Evaluation) -> tuple[tuple[str, str], ...]:
    return tuple((s.path, s.sha256) for s in evaluation.policy.sources)


def collect_sources(
    evaluation: Evaluation, policy_sources: Mapping[str, SourceContent] | None
) -> CollectedSources:
    """The source files an evaluation lists, checked against their sha256 (see `log_decision`
    for `policy_sources`)."""
    provided: dict[str, str | bytes] | None = None
    if policy_sources is not None:
        provided = {
            name: content if isinstance(content, str | bytes) else content.text
            for name, content in policy_sources.items()
        }
    listed = _listed(evaluation)
    stored, contents = src.collect(listed, provided)
    return CollectedSources(listed, tuple(stored), contents)


class DecisionAppender:
    """A decision log held open for many appends, as `log_decision` makes them, without opening
    the file each time (a long-running service logs every decision). One thread uses it; other
    processes may append to the same log at the same time. Use as a context manager."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(db_path)
        self.connection = store.open_for_append(self.path)

    def __enter__(self) -> DecisionAppender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def append(self, decision: store.NewDecision) -> Row:
        """Append a decision made by `new_decision`; returns the stored row."""
        return store.append(self.connection, self.path, decision)

    def append_many(self, decisions: Sequence[store.NewDecision]) -> list[Row]:
        """Append decisions in order in one transaction (one sync to disk): all or none."""
        return store.append_many(self.connection, self.path, decisions)

    def close(self) -> None:
        self.connection.close()


def open_log(db_path: str | Path) -> DecisionLog:
    """Open an existing log for reading (verify, list, show, replay); never creates one."""
    path = Path(db_path)
    return DecisionLog(path)


class DecisionLog:
    """A read-only view of a decision log. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = store.open_for_reading(path)

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def row(self, seq: int) -> Row:
        with store.translated(self.path, "read it"):
            try:
                found = store.get_row(self.connection, seq)
            except store.MalformedRow as error:
                raise AuditError(
                    f"decision #{seq} in {self.path} was altered: {error.message}; "
                    "run `leukorules audit verify`"
                ) from None
            if found is None:
                last = self.connection.execute("SELECT max(seq) FROM decision").fetchone()[0]
                where = f"it holds decisions #1 to #{last}" if last else "it holds no decisions"
                raise AuditError(f"decision #{seq} is not in {self.path}; {where}")
            return found

    def source(self, digest: str) -> bytes | None:
        with store.translated(self.path, "read it"):
            return store.source_content(self.connection, digest)

    def rows(self, query: Query | None = None) -> Iterator[Row]:
        """Matching rows in chain order, read one at a time."""
        chosen = query or Query()
        where, params = chosen.sql()
        with store.translated(self.path, "read it"):
            try:
                for row in store.iter_rows(self.connection, where, params, chosen.limit):
                    # the SQL filter lets a row with a damaged `fired` through: this names it
                    if chosen.fired is None or chosen.fired in row.fired_rules():
                        yield row
            except store.MalformedRow as error:
                raise AuditError(
                    f"decision #{error.seq} in {self.path} was altered: {error.message}; "
                    "run `leukorules audit verify`"
                ) from None


class Query:
    """Filters of `audit list`; all optional, combined with AND."""

    def __init__(
        self,
        since: str | None = None,
        until: str | None = None,
        policy_id: str | None = None,
        policy_version: str | None = None,
        fired: str | None = None,
        user: str | None = None,
        case: str | None = None,
        limit: int | None = None,
    ) -> None:
        self.since = since
        self.until = until
        self.policy_id = policy_id
        self.policy_version = policy_version
        self.fired = fired
        self.user = user
        self.case = case
        self.limit = limit

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.since is not None:
            clauses.append("logged_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("logged_at < ?")
            params.append(self.until)
        if self.policy_id is not None:
            clauses.append("policy_id = ?")
            params.append(self.policy_id)
        if self.policy_version is not None:
            clauses.append("policy_version = ?")
            params.append(self.policy_version)
        if self.fired is not None:
            # A row whose `fired` is not valid JSON is kept here, so that reading it names the
            # row (`DecisionLog.rows`); json_each would fail the whole query instead.
            clauses.append(
                "CASE WHEN json_valid(decision.fired) "
                "THEN EXISTS (SELECT 1 FROM json_each(decision.fired) WHERE value = ?) ELSE 1 END"
            )
            params.append(self.fired)
        if self.user is not None:
            clauses.append("user = ?")
            params.append(self.user)
        if self.case is not None:
            clauses.append('"case" = ?')
            params.append(self.case)
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def result_summary(row: Row) -> dict[str, object]:
    """Counts and ids from a row's result JSON, without any fact value. When the stored result
    is not what leukorules writes, `readable` is False, the lists are empty and `problem` says
    what is wrong, naming the row."""
    try:
        result: Any = row.result_value()
        recommendations = [str(e["rule"]) for e in result.get("recommendations", [])]
        notes = [str(e["rule"]) for e in result.get("notes", [])]
        undetermined = [str(e["rule"]) for e in result.get("undetermined", [])]
    except AuditError as error:
        problem = str(error)
    except (TypeError, KeyError, AttributeError):
        problem = str(store.unreadable(row.seq, "stored result"))
    else:
        return {
            "recommendations": recommendations,
            "notes": notes,
            "undetermined": undetermined,
            "readable": True,
            "problem": None,
        }
    return {
        "recommendations": [],
        "notes": [],
        "undetermined": [],
        "readable": False,
        "problem": problem,
    }
