"""The decision log file: a SQLite database holding a hash chain of decisions.

Input: a path. Output: a connection that is known to be a leukorules decision log (or a fresh
file made into one), and `append`, which extends the chain atomically.

Guarantees:
- A file that is not a SQLite database, or a SQLite database of some other program, is refused
  with an `AuditError` before anything is written to it: the log never overwrites a foreign file.
- Every SQLite failure (corrupt file, locked beyond the retry budget, disk full) surfaces as an
  `AuditError` with the log's path in the message, never as a traceback.
- Appends run in `BEGIN IMMEDIATE` transactions: reading the chain's head and adding the next row
  is one atomic step, so concurrent writers (other processes) never fork the chain. The log runs
  in WAL mode with `synchronous=FULL`: a decision that was reported logged survives a crash.
- Rows and stored sources cannot be updated or deleted through SQLite (triggers refuse it); the
  hash chain, checked by `audit verify`, is what proves a file was not edited by other means.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from leukorules.messages import KIND_FOLDER
from leukorules.reading import kind_of_path

# PRAGMA application_id: "LKRL". Tells a leukorules log apart from any other SQLite file.
APPLICATION_ID = 0x4C4B524C
FORMAT_VERSION = 1
ROW_FORMAT = "leukorules-decision-v1"
GENESIS_HASH = "0" * 64
SQLITE_MAGIC = b"SQLite format 3\x00"
# Waiting for another writer is done here rather than by SQLite's busy handler, whose sleeps grow
# to 100 ms and leave the lock idle while every waiter sleeps; short jittered retries keep a busy
# log's throughput close to one commit after another.
BUSY_TIMEOUT_S = 0.0
RETRY_BUDGET_S = 120.0

T = TypeVar("T")


class AuditError(Exception):
    """A problem with a decision log that the user must act on; the message says what."""


@dataclass(frozen=True, slots=True)
class StoredSource:
    path: str  # as the evaluation reported it (the result JSON holds this path)
    rel: str  # relative to the policy's root folder; replay restores the files here
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "rel": self.rel, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class Row:
    """One logged decision, exactly as stored."""

    seq: int
    logged_at: str
    user: str | None
    case: str | None
    policy_id: str
    policy_version: str
    policy_sha256: str
    policy_sources: str  # JSON list of StoredSource
    facts_sha256: str
    facts: str | None  # canonical JSON of the facts as given; None when redacted
    redacted: bool
    result: str  # the evaluation's JSON, byte for byte as the engine produced it
    fired: str  # JSON list of the rule ids that fired
    engine_version: str
    engine_code: str  # sha256 over the source of the code that computes results
    prev_hash: str
    row_hash: str

    def content(self) -> dict[str, object]:
        """What the row hash covers: every column but the hash itself, plus a format tag."""
        return {
            "format": ROW_FORMAT,
            "seq": self.seq,
            "logged_at": self.logged_at,
            "user": self.user,
            "case": self.case,
            "policy_id": self.policy_id,
            "policy_version": self.policy_version,
            "policy_sha256": self.policy_sha256,
            "policy_sources": self.policy_sources,
            "facts_sha256": self.facts_sha256,
            "facts": self.facts,
            "redacted": self.redacted,
            "result": self.result,
            "fired": self.fired,
            "engine_version": self.engine_version,
            "engine_code": self.engine_code,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return sha256_hex(canonical_json(self.content()))

    def sources(self) -> list[StoredSource]:
        listed: Any = stored_json(self.seq, "list of policy sources", self.policy_sources)
        try:
            return [StoredSource(str(s["path"]), str(s["rel"]), str(s["sha256"])) for s in listed]
        except (TypeError, KeyError):
            raise unreadable(self.seq, "list of policy sources") from None

    def fired_rules(self) -> list[str]:
        value = stored_json(self.seq, "list of fired rules", self.fired)
        if not isinstance(value, list):
            raise unreadable(self.seq, "list of fired rules")
        return [str(v) for v in value]

    def result_value(self) -> object:
        """The stored result JSON, parsed; AuditError naming the row when it is unreadable."""
        return stored_json(self.seq, "stored result", self.result)

    def facts_value(self) -> object:
        """The stored facts, parsed (None for a redacted row); AuditError when unreadable."""
        return None if self.facts is None else stored_json(self.seq, "stored facts", self.facts)


# Every JSON column leukorules writes nests a few levels (a result with its trace: 5, facts: 3);
# a deeper one was written by someone else. Refusing it keeps every reader of a tampered row
# (show, list, replay's comparison) out of deep recursion.
MAX_STORED_JSON_DEPTH = 100


def unreadable(seq: int, what: str, why: str = "") -> AuditError:
    return AuditError(
        f"decision #{seq}: its {what} is unreadable{why} (the row was altered); "
        "run `leukorules audit verify`"
    )


def stored_json(seq: int, what: str, text: str) -> object:
    """A JSON column of row `seq`, parsed; an AuditError naming the row and the column when it
    is not JSON, or nested more than MAX_STORED_JSON_DEPTH levels deep."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise unreadable(seq, what, ": nested too deeply") from None
    except (ValueError, TypeError):
        raise unreadable(seq, what) from None
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > MAX_STORED_JSON_DEPTH:
                raise unreadable(seq, what, ": nested too deeply")
            stack.extend((child, depth + 1) for child in item)
    return value


COLUMNS = tuple(Row.__dataclass_fields__)
_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in COLUMNS) + " FROM decision"

SCHEMA = """
CREATE TABLE decision (
    seq INTEGER PRIMARY KEY,
    logged_at TEXT NOT NULL,
    user TEXT,
    "case" TEXT,
    policy_id TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    policy_sha256 TEXT NOT NULL,
    policy_sources TEXT NOT NULL,
    facts_sha256 TEXT NOT NULL,
    facts TEXT,
    redacted INTEGER NOT NULL,
    result TEXT NOT NULL,
    fired TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    engine_code TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL UNIQUE
);
CREATE INDEX decision_logged_at ON decision (logged_at);
CREATE INDEX decision_policy ON decision (policy_id, policy_version);
CREATE TABLE source (
    sha256 TEXT PRIMARY KEY,
    content BLOB NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TRIGGER decision_no_update BEFORE UPDATE ON decision
BEGIN SELECT RAISE(ABORT, 'leukorules decision log rows are append-only'); END;
CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision
BEGIN SELECT RAISE(ABORT, 'leukorules decision log rows are append-only'); END;
CREATE TRIGGER source_no_update BEFORE UPDATE ON source
BEGIN SELECT RAISE(ABORT, 'leukorules stored policy sources are append-only'); END;
CREATE TRIGGER source_no_delete BEFORE DELETE ON source
BEGIN SELECT RAISE(ABORT, 'leukorules stored policy sources are append-only'); END;
"""


def canonical_json(value: object) -> bytes:
    """Sorted keys, no whitespace, ASCII only: one byte string per value, on every platform."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return text.encode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- opening -----------------------------------------------------------------------------------


def _is_busy(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def _describe(error: sqlite3.Error) -> str:
    text = str(error)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return f"the file is damaged or not a database ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the file cannot be written ({text})"
    if "unable to open" in lowered:
        return f"the file cannot be opened ({text})"
    return text


@contextmanager
def translated(path: Path, doing: str) -> Iterator[None]:
    """Turn every SQLite error into an AuditError naming the log and what was being done."""
    try:
        yield
    except sqlite3.Error as error:
        raise AuditError(f"decision log {path}: cannot {doing}: {_describe(error)}") from None


def with_retry(path: Path, doing: str, action: Callable[[], T]) -> T:
    """Run `action`, retrying while another process holds the log's write lock."""
    deadline = time.monotonic() + RETRY_BUDGET_S
    delay = 0.001
    while True:
        try:
            return action()
        except sqlite3.Error as error:
            if not _is_busy(error) or time.monotonic() > deadline:
                raise AuditError(
                    f"decision log {path}: cannot {doing}: {_describe(error)}"
                ) from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.5, 0.01)


def _check_header(path: Path) -> None:
    try:
        kind = kind_of_path(path)
        if kind == KIND_FOLDER:
            raise AuditError(
                f"decision log {path} is a folder; give a file name, e.g. decisions.db"
            )
        if kind is not None:  # a FIFO would block the open below; a device is no log either
            raise AuditError(f"decision log {path} is {kind}, not a file; give a file name")
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except OSError as error:
        raise AuditError(f"decision log {path} cannot be read: {error.strerror or error}") from None
    if header and header != SQLITE_MAGIC:
        raise AuditError(
            f"{path} is not a leukorules decision log (not a SQLite database); "
            "it was left untouched — give a new file name or the right log"
        )


def _kind_of_database(connection: sqlite3.Connection, path: Path) -> str:
    """'ours', 'empty' or raise for a foreign or too new database."""
    # One statement, so one snapshot: read one by one, the three could straddle another
    # process's creation of the log (no application id yet, its tables already there).
    application_id, version, tables = connection.execute(
        "SELECT (SELECT application_id FROM pragma_application_id()), "
        "(SELECT user_version FROM pragma_user_version()), "
        "(SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if application_id == APPLICATION_ID:
        if version > FORMAT_VERSION:
            raise AuditError(
                f"decision log {path} has format {version}, newer than this leukorules "
                f"understands ({FORMAT_VERSION}); use a newer leukorules"
            )
        if version < 1 or tables == 0:
            raise AuditError(f"decision log {path} is incomplete (its tables are missing)")
        return "ours"
    if application_id == 0 and tables == 0:
        return "empty"
    raise AuditError(
        f"{path} is a SQLite database of another program, not a leukorules decision log; "
        "it was left untouched — give a new file name or the right log"
    )


def _initialise(connection: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";\n"):
        if statement.strip():
            connection.execute(statement)
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
    connection.execute(
        "INSERT INTO meta (key, value) VALUES ('created_at', ?), ('head_seq', '0'), "
        "('head_hash', ?)",
        (utc_now(), GENESIS_HASH),
    )


def open_for_append(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a decision log for appending."""
    if path.exists():
        _check_header(path)
    elif not path.parent.is_dir():
        raise AuditError(f"decision log {path}: folder {path.parent} does not exist")
    with translated(path, "open it"):
        connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:

        def prepare() -> None:
            # an existing log needs no write lock to be recognised; a new one is created in a
            # write transaction that checks again, so two processes creating it at once
            # cannot both create it
            if _kind_of_database(connection, path) == "ours":
                return
            connection.execute("BEGIN IMMEDIATE")
            try:
                if _kind_of_database(connection, path) == "empty":
                    _initialise(connection)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        with_retry(path, "open it", prepare)
        with_retry(path, "switch it to WAL mode", lambda: _wal(connection))
        connection.execute("PRAGMA synchronous = FULL")
    except BaseException:
        connection.close()
        raise
    return connection


def _wal(connection: sqlite3.Connection) -> None:
    if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError("database is locked (journal mode not switched)")


def open_for_reading(path: Path) -> sqlite3.Connection:
    """Open an existing decision log without ever creating or changing it."""
    if not path.exists():
        raise AuditError(f"decision log {path} does not exist")
    _check_header(path)
    with translated(path, "open it"):
        uri = path.resolve().as_uri() + "?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        with translated(path, "read it"):
            if path.stat().st_size == 0 or _kind_of_database(connection, path) == "empty":
                raise AuditError(f"decision log {path} is empty: no decision was ever logged")
    except BaseException:
        connection.close()
        raise
    return connection


# --- appending ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewDecision:
    """Everything of a row except its position in the chain."""

    user: str | None
    case: str | None
    policy_id: str
    policy_version: str
    policy_sha256: str
    sources: Sequence[StoredSource]
    source_content: Mapping[str, bytes]  # sha256 -> bytes
    facts_sha256: str
    facts: str | None
    result: str
    fired: Sequence[str]
    engine_version: str
    engine_code: str


def append(connection: sqlite3.Connection, path: Path, decision: NewDecision) -> Row:
    """Add one decision at the end of the chain, atomically; returns the stored row."""
    return append_many(connection, path, [decision])[0]


def append_many(
    connection: sqlite3.Connection, path: Path, decisions: Sequence[NewDecision]
) -> list[Row]:
    """Add decisions at the end of the chain, in order, in one transaction: all or none, one
    commit (one sync to disk) for the group. A service logging many decisions at once waits for
    the disk once per group instead of once per decision."""
    if not decisions:
        return []
    prepared = [
        (
            decision,
            json.dumps(
                [s.to_json() for s in decision.sources], separators=(",", ":"), ensure_ascii=True
            ),
            json.dumps(list(decision.fired), separators=(",", ":"), ensure_ascii=True),
        )
        for decision in decisions
    ]

    def transaction() -> list[Row]:
        connection.execute("BEGIN IMMEDIATE")
        try:
            rows = [
                _append_locked(connection, path, decision, sources, fired)
                for decision, sources, fired in prepared
            ]
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return rows

    return with_retry(path, "append to it", transaction)


def _append_locked(
    connection: sqlite3.Connection,
    path: Path,
    decision: NewDecision,
    policy_sources: str,
    fired: str,
) -> Row:
    last = connection.execute(
        "SELECT seq, row_hash FROM decision ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    seq, prev_hash = (1, GENESIS_HASH) if last is None else (last[0] + 1, last[1])
    digests = list(decision.source_content)
    marks = ", ".join("?" for _ in digests)
    present = {
        str(found[0])
        for found in connection.execute(
            f"SELECT sha256 FROM source WHERE sha256 IN ({marks})", digests
        )
    }
    for digest in digests:
        # stored once per content; `audit verify` re-hashes every stored source
        if digest not in present:
            connection.execute(
                "INSERT INTO source (sha256, content) VALUES (?, ?)",
                (digest, decision.source_content[digest]),
            )
    row = Row(
        seq=seq,
        logged_at=utc_now(),
        user=decision.user,
        case=decision.case,
        policy_id=decision.policy_id,
        policy_version=decision.policy_version,
        policy_sha256=decision.policy_sha256,
        policy_sources=policy_sources,
        facts_sha256=decision.facts_sha256,
        facts=decision.facts,
        redacted=decision.facts is None,
        result=decision.result,
        fired=fired,
        engine_version=decision.engine_version,
        engine_code=decision.engine_code,
        prev_hash=prev_hash,
        row_hash="",
    )
    row = _with_hash(row)
    values: list[Any] = [getattr(row, c) for c in COLUMNS]
    values[COLUMNS.index("redacted")] = int(row.redacted)
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    connection.execute(f"INSERT INTO decision ({columns}) VALUES ({marks})", values)
    connection.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(seq),))
    connection.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (row.row_hash,))
    return row


def _with_hash(row: Row) -> Row:
    fields = {c: getattr(row, c) for c in COLUMNS}
    fields["row_hash"] = row.computed_hash()
    return Row(**fields)


# --- reading -----------------------------------------------------------------------------------


class MalformedRow(Exception):
    """A stored row whose columns do not have the types the log writes: it was edited."""

    def __init__(self, seq: object, message: str) -> None:
        super().__init__(message)
        self.seq = seq
        self.message = message


_TEXT = {c for c in COLUMNS if c not in ("seq", "redacted")}
_OPTIONAL = {"user", "case", "facts"}


def _row(values: Sequence[Any]) -> Row:
    fields = dict(zip(COLUMNS, values, strict=True))
    seq = fields["seq"]
    if not isinstance(seq, int):
        raise MalformedRow(seq, f"its sequence number {seq!r} is not a whole number")
    for name in _TEXT:
        value = fields[name]
        if not isinstance(value, str) and not (value is None and name in _OPTIONAL):
            raise MalformedRow(seq, f"column {name} holds a {type(value).__name__}, not text")
    if fields["redacted"] not in (0, 1):
        raise MalformedRow(seq, f"column redacted holds {fields['redacted']!r}, not 0 or 1")
    fields["redacted"] = bool(fields["redacted"])
    return Row(**fields)


def iter_rows(
    connection: sqlite3.Connection,
    where: str = "",
    params: Sequence[object] = (),
    last: int | None = None,
) -> Iterator[Row]:
    """Rows in chain order; with `last`, only the last that many of those matching."""
    if last is None:
        cursor = connection.execute(f"{_SELECT} {where} ORDER BY seq", tuple(params))
        for values in cursor:
            yield _row(values)
        return
    inner = f"SELECT seq FROM decision {where} ORDER BY seq DESC LIMIT ?"
    cursor = connection.execute(f"{_SELECT} WHERE seq IN ({inner}) ORDER BY seq", (*params, last))
    for values in cursor:
        yield _row(values)


def get_row(connection: sqlite3.Connection, seq: int) -> Row | None:
    values = connection.execute(f"{_SELECT} WHERE seq = ?", (seq,)).fetchone()
    return None if values is None else _row(values)


def source_content(connection: sqlite3.Connection, digest: str) -> bytes | None:
    values = connection.execute("SELECT content FROM source WHERE sha256 = ?", (digest,)).fetchone()
    if values is None:
        return None
    content = values[0]
    return content.encode("utf-8") if isinstance(content, str) else bytes(content)


def meta(connection: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in connection.execute("SELECT key, value FROM meta")}
