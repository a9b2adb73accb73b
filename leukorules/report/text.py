"""The terminal report for a clinician: recommendations by section, then what is still unknown.

Layout: a header naming the policy; recommendations grouped by section (strength, guideline
statement, reasons, evidence); notes and cautions; derived facts; overridden rules; guideline
gaps; then "information needed": every undetermined item with the facts that would decide it,
and one line listing all of them. ANSI colours only when `color` is true (the CLI passes
`use_color(stdout)`: a TTY and no NO_COLOR).

Guarantees: the only control characters written are the newlines and colour codes of the layout;
every text from the facts or the policy is escaped first (`common.for_terminal`). Nothing is cut
short: long texts wrap.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from leukorules.report.common import (
    OUTCOME_LABELS,
    all_missing,
    facts_text,
    for_terminal,
    json_value_text,
    note_body,
    note_heading,
    one_evidence,
    provenance_sources,
    section_text,
    why_not_text,
)

if TYPE_CHECKING:
    from leukorules.result import model as r

WIDTH = 96
DISCLAIMER = "Decision support: check each item against the guideline and the patient."


class Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str) -> Callable[[str], str]:
        def apply(text: str) -> str:
            return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

        return apply

    @property
    def heading(self) -> Callable[[str], str]:
        return self._wrap("1")

    @property
    def section(self) -> Callable[[str], str]:
        return self._wrap("1;34")

    @property
    def action(self) -> Callable[[str], str]:
        return self._wrap("1;32")

    @property
    def caution(self) -> Callable[[str], str]:
        return self._wrap("1;33")

    @property
    def missing(self) -> Callable[[str], str]:
        return self._wrap("36")

    @property
    def dim(self) -> Callable[[str], str]:
        return self._wrap("2")


def _field(lines: list[str], label: str, text: str, indent: int) -> None:
    """`label: text`, wrapped with continuation lines aligned under the text."""
    head = " " * indent + f"{label}: "
    body = textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=head,
        subsequent_indent=" " * len(head),
        break_on_hyphens=False,
        break_long_words=False,
    )
    lines.extend(body or [head.rstrip()])


def _evidence(lines: list[str], ids: tuple[str, ...], policy: r.PolicyInfo, indent: int) -> None:
    """`evidence: reference [1] in the source; ...`, one reference a line, aligned."""
    head = " " * indent + "evidence: "
    for number, evidence_id in enumerate(ids):
        lines.extend(
            textwrap.wrap(
                one_evidence(evidence_id, policy),
                width=WIDTH,
                initial_indent=" " * len(head) if number else head,
                subsequent_indent=" " * len(head),
                break_on_hyphens=False,
                break_long_words=False,
            )
        )


def _quote(lines: list[str], text: str, indent: int) -> None:
    lines.extend(
        textwrap.wrap(
            f"“{text}”",
            width=WIDTH,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 1),
            break_long_words=False,
        )
    )


def _wrapped(lines: list[str], text: str, first: str, color: bool) -> None:
    """Wrap `text` after the prefix `first`, continuation lines aligned under the text. Colour
    codes take no room on screen, so the width allows for them."""
    extra = text.count("\x1b[") * 4 if color else 0
    lines.extend(
        textwrap.wrap(
            text,
            width=WIDTH + extra,
            initial_indent=first,
            subsequent_indent=" " * len(first),
            break_on_hyphens=False,
            break_long_words=False,
        )
    )


def render_text(ev: r.Evaluation, color: bool = False) -> str:
    ev = for_terminal(ev)
    s = Style(color)
    policy = ev.policy
    lines = [
        s.heading(f"{policy.title} — policy {policy.id} {policy.version}"),
        s.dim(DISCLAIMER),
        "",
    ]

    lines.append(s.heading(f"RECOMMENDATIONS ({len(ev.recommendations)})"))
    if not ev.recommendations:
        lines.append("  none apply on the facts given")
    current: tuple[str, ...] | None = None
    for number, rec in enumerate(ev.recommendations, 1):
        if rec.section != current:
            current = rec.section
            lines.append("")
            lines.append("  " + s.section(section_text(rec.section)))
        line = ""
        if rec.after:
            line = f" (line {rec.line}, after {', '.join(rec.after)})"
        elif rec.line > 1:
            line = f" (line {rec.line})"
        _wrapped(
            lines,
            f"{s.action(rec.action)}  [{rec.strength.label}]{line}  {s.dim(rec.rule)}",
            f"  {number:>2}. ",
            color,
        )
        _quote(lines, rec.statement, 6)
        if rec.alternatives:
            _field(lines, "alternatives", "; ".join(rec.alternatives), 6)
        _field(lines, "because", facts_text(rec.because, "applies to every patient"), 6)
        if rec.chain:
            _field(lines, "builds on", ", ".join(rec.chain), 6)
        _evidence(lines, rec.evidence, policy, 6)
    lines.append("")

    if ev.notes:
        lines.append(s.heading(f"NOTES AND CAUTIONS ({len(ev.notes)})"))
        current = None
        for note in ev.notes:
            if note.section != current:
                current = note.section
                lines.append("")
                lines.append("  " + s.section(section_text(note.section)))
            label = note_heading(note)
            styled = ""
            if label is not None:
                styled = (s.caution(label) if note.kind == "caution" else s.heading(label)) + ": "
            _wrapped(lines, f"{styled}{note_body(note)}  {s.dim(note.rule)}", "   - ", color)
            if note.text:
                _quote(lines, note.statement, 6)
            if note.because:
                _field(lines, "because", facts_text(note.because), 6)
            _evidence(lines, note.evidence, policy, 6)
        lines.append("")

    if ev.derived:
        lines.append(s.heading("DERIVED"))
        for name, derived in ev.derived.items():
            shown = f"{name} = {json_value_text(derived.value)}"
            lines.append(f"  {shown}  " + s.dim(f"by {', '.join(derived.rules)}"))
            _field(lines, "because", facts_text(derived.because, "no facts needed"), 6)
        lines.append("")

    if ev.overridden:
        lines.append(s.heading("OVERRIDDEN"))
        for loser in ev.overridden:
            lines.append(
                f"  {loser.rule}: would apply, but is overridden by "
                + ", ".join(loser.overridden_by)
            )
        lines.append("")

    if ev.gaps:
        lines.append(s.heading("GUIDELINE GAPS"))
        for gap in ev.gaps:
            text = f"  {section_text(gap.section)}: the guideline makes no statement for this case"
            lines.append(text + (f" ({gap.note})" if gap.note else "") + "  " + s.dim(gap.id))
        lines.append("")

    open_items = len(ev.undetermined) + len(ev.undetermined_gaps)
    lines.append(s.heading(f"INFORMATION NEEDED ({open_items} undetermined)"))
    if not open_items:
        lines.append("  nothing: every rule was decided by the facts given")
    for item in ev.undetermined:
        if item.kind == "recommend":
            what = f"recommend: {item.action}"
        elif item.kind == "derive":
            what = f"derivation: {item.statement}"
        else:
            what = f"{item.kind}: {item.statement}"
        _wrapped(lines, f"{what}  {s.dim(item.rule)}", "  - ", color)
        if item.missing:
            _field(lines, "missing", s.missing(", ".join(item.missing)), 4)
        if item.unresolved:
            _field(
                lines,
                "cannot be decided from patient facts",
                f"{', '.join(item.unresolved)} stays unknown",
                4,
            )
    for open_gap in ev.undetermined_gaps:
        what = f"guideline gap under {section_text(open_gap.section)}: the guideline makes no"
        what += " statement for this case, which may be this patient's"
        _wrapped(lines, f"{what}  {s.dim(open_gap.id)}", "  - ", color)
        if open_gap.missing:
            _field(lines, "missing", s.missing(", ".join(open_gap.missing)), 4)
    needed = all_missing([*ev.undetermined, *ev.undetermined_gaps])
    if needed:
        lines.append("")
        _field(lines, "  To decide these, find out", s.missing(", ".join(needed)), 0)
    lines.append("")

    if ev.provenance is not None:
        _provenance(lines, ev.provenance, s)

    if ev.trace is not None:
        lines.append(s.heading("TRACE"))
        for entry in ev.trace:
            why = why_not_text(entry.why_not)
            if entry.outcome == "undetermined" and entry.missing:
                why = "missing " + ", ".join(entry.missing)
            outcome = OUTCOME_LABELS[entry.outcome]
            lines.append(f"  {outcome:<12}  {entry.rule}" + (f" — {why}" if why else ""))
        lines.append("")

    lines.append(
        s.dim(
            f"policy sha256 {policy.sha256[:16]}  facts sha256 {ev.facts_sha256[:16]}  "
            f"{ev.engine.name} {ev.engine.version}"
        )
    )
    return "\n".join(lines) + "\n"


def _provenance(lines: list[str], provenance: Mapping[str, r.FactProvenance], s: Style) -> None:
    """Each fact of a health record: its value and the resources that gave it, or why it stays
    unknown."""
    lines.append(s.heading("FACTS FROM THE RECORD"))
    for fact, found in provenance.items():
        if found.value is None:
            _wrapped(lines, f"{fact} unknown: {found.reason or 'no source gives it'}", "  ", False)
            continue
        lines.append(f"  {fact} = {json_value_text(found.value)}")
        for source in provenance_sources(found):
            _field(lines, "from", source, 6)
    lines.append("")


def render_explanation_text(ex: r.Explanation, color: bool = False) -> str:
    ex = for_terminal(ex)
    s = Style(color)
    lines: list[str] = []
    kind = "gap" if ex.kind == "gap" else ex.kind
    lines.append(s.heading(f"{kind} {ex.rule}") + f"  ({section_text(ex.section)})")
    if ex.statement:
        _quote(lines, ex.statement, 2)
    if ex.derives:
        _field(lines, "derives", ex.derives, 2)
    outcome = OUTCOME_LABELS[ex.outcome].upper()
    lines.append("")
    lines.append(s.heading(f"Outcome: {outcome}"))
    summary = _summary(ex)
    if summary:
        _field(lines, "  why", summary, 0)
    lines.append("")
    lines.append(s.heading("Condition, step by step:"))
    _steps(lines, ex.condition, 1)
    if ex.after:
        lines.append("")
        lines.append(s.heading("Comes after (each must have fired):"))
        for dep in ex.after:
            lines.append(f"  {dep.rule}: {OUTCOME_LABELS[dep.outcome]}")
    if ex.overridden_by:
        lines.append("")
        lines.append(s.heading("Overridden by (none may fire):"))
        for dep in ex.overridden_by:
            lines.append(f"  {dep.rule}: {OUTCOME_LABELS[dep.outcome]}")
    if ex.chain:
        lines.append("")
        _field(lines, "Builds on", ", ".join(ex.chain), 0)
    return "\n".join(lines) + "\n"


def _summary(ex: r.Explanation) -> str:
    if ex.outcome in ("fired", "relevant"):
        return "the condition holds because " + facts_text(ex.because, "it always applies")
    if ex.outcome == "undetermined":
        parts = []
        if ex.missing:
            parts.append("unknown facts would decide it: " + ", ".join(ex.missing))
        if ex.unresolved:
            parts.append(
                "derived facts that stay unknown whatever is supplied: " + ", ".join(ex.unresolved)
            )
        return "; ".join(parts) or "it depends on facts that are unknown"
    return why_not_text(ex.why_not)


def _steps(lines: list[str], step: r.ConditionStep, depth: int) -> None:
    pad = "  " * depth
    where = f"line {step.line}: " if step.line else ""
    if step.kind in ("and", "or"):
        word = "all of" if step.kind == "and" else "any of"
        lines.append(f"{pad}{word} → {step.truth}  ({where}{step.text})")
    elif step.kind == "not":
        lines.append(f"{pad}not → {step.truth}  ({where}{step.text})")
    else:
        reads = facts_text(step.reads, "")
        lines.append(f"{pad}{step.text} → {step.truth}" + (f"  [{reads}]" if reads else ""))
    for child in step.children:
        _steps(lines, child, depth + 1)
