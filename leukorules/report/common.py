"""What the renderers share: how facts, evidence, notes and sections read, and terminal safety.

Evidence is shown as what it is in the source: a reference number (`reference [1] in the
source`), never a bare number a reader could take for a level of evidence. A note is labelled
"Note" only when its text does not already say so. `for_terminal` returns a result record with
every text in it escaped by `diagnostics.printable`, so nothing from facts or the policy writes
a control character (ESC, BEL, CR, ...) to a terminal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar, cast

from leukorules import model as m
from leukorules.codesystems import SYSTEM_NAMES
from leukorules.diagnostics import printable

if TYPE_CHECKING:
    from leukorules.result import model as r

SECTION_SEPARATOR = " › "
TOP_LEVEL = "(general)"
OUTCOME_LABELS = {
    "fired": "fired",
    "not_fired": "not fired",
    "undetermined": "undetermined",
    "overridden": "overridden",
    "relevant": "relevant",
    "not_relevant": "not relevant",
}
NOTE_LABELS = {"note": "Note", "caution": "Caution", "background": "Background"}


def section_text(section: Sequence[str]) -> str:
    return SECTION_SEPARATOR.join(section) if section else TOP_LEVEL


def fact_text(item: r.Reason | r.Read, with_rule: bool = True) -> str:
    """`age = 70`, `symptoms = {ataxia}`, `risk = high (derived by risk.high)`."""
    text = f"{item.fact} = {json_value_text(item.value, item.unit)}"
    if item.derived and with_rule:
        if item.rule:
            text += f" (derived by {item.rule})"
        elif item.value is None:
            text += " (derived; not determined)"
    return text


def facts_text(items: Iterable[r.Reason | r.Read], empty: str = "no facts needed") -> str:
    parts = [fact_text(item) for item in items]
    return "; ".join(parts) if parts else empty


def evidence_details(info: r.EvidenceInfo | None) -> list[str]:
    """What is known of one piece of evidence: its citation (or that there is none) and its
    GRADE rating, each a part of its own."""
    if info is None:  # cannot happen for results of the engine; rendered honestly anyway
        return ["not declared"]
    details = [f"citation: {info.citation}" if info.citation else "no citation given"]
    grading = []
    if info.grade:
        grading.append(f"GRADE {info.grade}")
    if info.certainty:
        grading.append(f"certainty {info.certainty.replace('_', ' ')}")
    if grading:
        details.append(", ".join(grading))
    return details


def one_evidence(evidence_id: str, policy: r.PolicyInfo) -> str:
    """`reference [1] in the source; no citation given`."""
    details = evidence_details(policy.evidence.get(evidence_id))
    return "; ".join([m.reference_text(evidence_id), *details])


def note_label(entry: r.Note) -> str:
    return NOTE_LABELS.get(entry.kind, entry.kind)


def note_heading(entry: r.Note) -> str | None:
    """The label a note is shown under ("Note", "Caution", "Background"), or None when its text
    already starts with that word ("Note that radiological findings may lag ..."), so a
    reader never sees "Note: Note that"."""
    label = note_label(entry)
    words = note_body(entry).split(maxsplit=1)
    if words and words[0].rstrip(":,").casefold() == label.casefold():
        return None
    return label


def note_body(entry: r.Note) -> str:
    return entry.text if entry.text else entry.statement


def all_missing(entries: Iterable[r.Undetermined | r.UndeterminedGap]) -> list[str]:
    return sorted({name for entry in entries for name in entry.missing})


def why_not_text(why: r.WhyNot | None) -> str:
    if why is None:
        return ""
    if why.reason == "condition":
        where = f" (line {why.line})" if why.line else ""
        reads = facts_text(why.reads, empty="")
        return f"{why.condition} is false{where}" + (f": {reads}" if reads else "")
    if why.reason == "after":
        return "comes after " + ", ".join(why.rules) + ", which did not fire"
    return "overridden by " + ", ".join(why.rules)


def json_value_text(value: r.FactValue, unit: str | None = None, quoted: bool = False) -> str:
    """Display text of a value already in JSON form (what renderers hold)."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = m.number_text(value)
        return f"{text} [{unit}]" if unit else text
    if isinstance(value, tuple):
        return "{" + ", ".join(value) + "}"
    return json.dumps(value, ensure_ascii=False) if quoted else value


Record = TypeVar("Record")


def for_terminal(record: Record) -> Record:
    """A copy of a result record (an `Evaluation`, an `Explanation`, any part of one) with every
    text in it, keys included, escaped by `printable`: a fact value or a statement holding ESC,
    BEL or CR cannot move the cursor, recolour or rewrite what a terminal shows."""
    return cast(Record, _escaped(record))


def _escaped(value: object) -> object:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, tuple):
        return tuple(_escaped(item) for item in value)
    if isinstance(value, Mapping):
        return {_escaped(key): _escaped(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {
            f.name: _escaped(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
        return dataclasses.replace(value, **changed)
    return value


def source_text(source: r.RecordSource) -> str:
    """A resource that gave a fact, for people: `Condition/c1 (ICD-10-CM R56.9 "Unspecified
    convulsions", 2025-01-15)`; a facts file by its name."""
    if source.resource_type == "facts file":
        return source.location
    name = f"{source.resource_type}/{source.id}" if source.id else source.location
    details = []
    if source.code is not None:
        system = SYSTEM_NAMES.get(source.system or "", source.system or "")
        coded = f"{system} {source.code}".strip()
        details.append(f"{coded} “{source.display}”" if source.display else coded)
    if source.date:
        details.append(source.date)
    return f"{name} ({', '.join(details)})" if details else name


def provenance_sources(found: r.FactProvenance) -> list[str]:
    """The sources that gave the value a fact of a health record was evaluated with, for
    people (`source_text`); none when the fact stays unknown."""
    if found.value is None:
        return []
    return [source_text(item.source) for item in found.evidence if item.value == found.value]
