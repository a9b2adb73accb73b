"""What the text and markdown renderers share: how facts, evidence and sections read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from leukorules import model as m

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


def evidence_text(ids: Sequence[str], policy: r.PolicyInfo) -> str:
    return "; ".join(one_evidence(i, policy) for i in ids)


def one_evidence(evidence_id: str, policy: r.PolicyInfo) -> str:
    info = policy.evidence.get(evidence_id)
    if info is None:  # cannot happen for results of the engine; rendered honestly anyway
        return f"{evidence_id} (not declared)"
    details = [info.citation if info.citation else "no citation given"]
    grading = []
    if info.grade:
        grading.append(f"GRADE {info.grade}")
    if info.certainty:
        grading.append(f"certainty {info.certainty.replace('_', ' ')}")
    if grading:
        details.append(", ".join(grading))
    return f"{evidence_id} ({'; '.join(details)})"


def note_label(entry: r.Note) -> str:
    return NOTE_LABELS.get(entry.kind, entry.kind)


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
