"""`audit replay`: re-run a logged decision with its stored policy text and facts.

Input: a decision log, a row number, and for a redacted row the facts (which must hash to the
logged `facts_sha256`). Output: a `Replay` saying whether the re-run reproduced the logged result
JSON byte for byte, and if not, where the first difference is.

How: the row's policy sources are restored from the content-addressed store into a fresh
temporary folder at their stored relative paths (so `include` lines resolve as before), checked
and compiled; the facts are validated and evaluated, with the trace if the logged result had one.
The restored files live at temporary paths, while the logged result names the paths the files had
when the decision was made. Replay therefore first proves the restored policy is the same (same
combined sha256, same files with the same hashes in the same order) and then writes the logged
paths back into the result's source list; every other byte is compared as produced.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from leukorules.audit import DecisionLog, store
from leukorules.audit import sources as src
from leukorules.audit.store import AuditError, Row
from leukorules.diagnostics import Severity


@dataclass
class Replay:
    row: Row
    reproduced: bool
    logged_sha256: str
    replayed_sha256: str | None = None
    replayed: str | None = None
    difference: str | None = None  # where the replay departs; never holds fact values
    difference_values: str = ""  # the two differing values: may be patient data
    notes: list[str] = field(default_factory=list)


def replay_decision(
    log: DecisionLog, seq: int, facts: Mapping[str, object] | None = None
) -> Replay:
    row = log.row(seq)
    if row.computed_hash() != row.row_hash:
        raise AuditError(
            f"decision #{seq} fails its own hash (the row was altered); replaying it would prove "
            "nothing — run `leukorules audit verify`"
        )
    replay = Replay(row, False, store.sha256_hex(row.result.encode("utf-8")))
    if row.redacted and facts is None:
        raise AuditError(
            f"decision #{seq} was logged redacted: only the facts' sha256 was kept. Give the "
            "patient's facts with --facts FILE; replay checks they hash to the logged value"
        )
    stored = row.sources()
    contents: dict[str, bytes] = {}
    for source in stored:
        content = log.source(source.sha256)
        if content is None or store.sha256_hex(content) != source.sha256:
            state = "missing from" if content is None else "altered in"
            raise AuditError(
                f"policy source {source.rel} of decision #{seq} is {state} the log; "
                "run `leukorules audit verify`"
            )
        contents[source.sha256] = content
    with tempfile.TemporaryDirectory(prefix="leukorules-replay-") as temp:
        folder = Path(temp)
        src.restore(stored, contents, folder)
        _run(replay, row, stored, folder, facts)
    return replay


def _run(
    replay: Replay,
    row: Row,
    stored: list[store.StoredSource],
    folder: Path,
    given_facts: Mapping[str, object] | None,
) -> None:
    from leukorules.check import check_paths
    from leukorules.engine.compile import compile_policy
    from leukorules.result.model import SourceInfo

    checked = check_paths([folder])
    if checked.policy is None:
        errors = [d for d in checked.diagnostics if d.severity is Severity.ERROR]
        first = errors[0].message if errors else "no policy"
        replay.difference = (
            f"the stored policy no longer checks with this leukorules ({len(errors)} error(s); "
            f"first: {first})"
        )
        return
    policy = checked.policy
    replayed_hashes = [s.sha256 for s in policy.sources]
    if policy.sha256 != row.policy_sha256 or replayed_hashes != [s.sha256 for s in stored]:
        replay.difference = (
            "the restored policy files do not load as the logged policy (different files or "
            "order); the decision cannot be reproduced from the stored sources"
        )
        return
    compiled = compile_policy(policy, checked.sources)
    if given_facts is None:
        if row.facts is None:  # not redacted (checked before), yet no facts: an edited row
            raise store.unreadable(row.seq, "stored facts", ": missing from a row not redacted")
        raw = row.facts_value()  # AuditError naming the row when unreadable
        if not isinstance(raw, dict):
            raise AuditError(f"decision #{row.seq}: the stored facts are not a JSON object")
    else:
        raw = dict(given_facts)
    values, problems = compiled.check_facts(raw)
    errors = [d for d in problems if d.severity is Severity.ERROR]
    if values is None:
        replay.difference = (
            f"the facts no longer validate against the stored policy: {errors[0].message}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        )
        return
    try:
        logged = row.result_value()
    except AuditError:
        replay.difference = "the logged result is not valid JSON (or is nested too deeply)"
        return
    evaluation = compiled.evaluate(values, trace=isinstance(logged, dict) and "trace" in logged)
    if given_facts is not None and evaluation.facts_sha256 != row.facts_sha256:
        replay.difference = (
            "the facts given do not match the decision: their sha256 is "
            f"{evaluation.facts_sha256}, the logged one {row.facts_sha256}"
        )
        return
    located = [SourceInfo(path=s.path, sha256=s.sha256) for s in stored]
    if [s.path for s in evaluation.policy.sources] != [s.path for s in located]:
        replay.notes.append(
            "the policy files were restored to a temporary folder; their logged paths were "
            "written back into the result after their contents were proved identical"
        )
        policy_info = dataclasses.replace(evaluation.policy, sources=tuple(located))
        evaluation = dataclasses.replace(evaluation, policy=policy_info)
    text = evaluation.to_json()
    replay.replayed = text
    replay.replayed_sha256 = store.sha256_hex(text.encode("utf-8"))
    if text == row.result:
        replay.reproduced = True
        return
    found = first_difference(logged, json.loads(text))
    if found is None:
        replay.difference = "the same JSON values written with different bytes"
    else:
        replay.difference, replay.difference_values = found
    if row.engine_version != evaluation.engine.version:
        replay.notes.append(
            f"the decision was made by engine {row.engine_version}; this is "
            f"{evaluation.engine.version}"
        )
    from leukorules.audit import engine_code_sha256

    if row.engine_code != engine_code_sha256():
        replay.notes.append(
            "the evaluator's code differs from the code that made the decision "
            f"(engine code sha256 {row.engine_code[:12]}…, now {engine_code_sha256()[:12]}…)"
        )


def first_difference(logged: object, replayed: object, where: str = "$") -> tuple[str, str] | None:
    """The first place two JSON values differ: (JSON path and what differs, the two values).

    The values are kept apart because they may be patient data: callers show them on request.
    """
    if isinstance(logged, dict) and isinstance(replayed, dict):
        for key in list(logged) + [k for k in replayed if k not in logged]:
            if key not in replayed:
                return f"{where}.{key}: present in the logged result, absent in the replay", ""
            if key not in logged:
                return f"{where}.{key}: absent in the logged result, present in the replay", ""
            found = first_difference(logged[key], replayed[key], f"{where}.{key}")
            if found:
                return found
        if list(logged) != list(replayed):
            return f"{where}: the same keys in a different order", ""
        return None
    if isinstance(logged, list) and isinstance(replayed, list):
        for index, (a, b) in enumerate(zip(logged, replayed, strict=False)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        if len(logged) != len(replayed):
            return f"{where}: {len(logged)} item(s) logged, {len(replayed)} replayed", ""
        return None
    if logged != replayed or type(logged) is not type(replayed):
        return (
            f"{where}: the values differ",
            f"logged {_short(logged)}, replayed {_short(replayed)}",
        )
    return None


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
