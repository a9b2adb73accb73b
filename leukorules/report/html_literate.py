"""The literate view: the guideline text itself, annotated for this patient, as HTML.

Input: a `Page` and the guideline's source text (the file the policy names, beside it or in its
`source/` folder; see `authoring.coverage.default_source`). Output: the source's title,
headings and statements in source order, every statement marked applied, not applied,
undetermined or not encoded, with the rule that encodes it, what that rule concluded, its
evidence and why it did or did not fire. Every statement is shown whole and escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from leukorules import model as m
from leukorules.authoring.coverage import SourceStatement, normalize_text, split_source
from leukorules.report.common import NOTE_LABELS, OUTCOME_LABELS
from leukorules.report.html_common import Page, codes, esc, evidence_html, reasons_html
from leukorules.report.html_trace import why_not_html
from leukorules.result import model as r

STATUS_LABELS = {
    "applied": "applied",
    "not-applied": "not applied",
    "undetermined": "undetermined",
    "not-encoded": "not encoded",
}


def literate_section(page: Page) -> str:
    head = '<section id="guideline"><h2>The guideline, annotated for this patient</h2>'
    if page.guideline_text is None:
        return (
            head + '<p class="empty">The guideline source text is not available to this '
            "report (the policy names no source file beside it or in its source/ folder, or "
            "it was not found); the statements are listed with the recommendations above."
            "</p></section>"
        )
    return head + _body(page, page.guideline_text) + "</section>"


def _body(page: Page, text: str) -> str:
    document = split_source(text)
    by_text: dict[str, list[m.Rule]] = {}
    for rule in page.policy.rules:
        by_text.setdefault(normalize_text(rule.statement), []).append(rule)
    events: list[tuple[int, str]] = []
    for heading in document.headings:
        level = min(len(heading.path), 3)
        events.append(
            (heading.line, f'<div class="heading level-{level}">{esc(heading.title)}</div>')
        )
    counts = dict.fromkeys(STATUS_LABELS, 0)
    for statement in document.statements:
        rules = by_text.get(normalize_text(statement.text), [])
        status = _status(page, rules)
        counts[status] += 1
        events.append((statement.line, _statement(page, statement, rules, status)))
    events.sort(key=lambda item: item[0])
    legend = ", ".join(f"{counts[key]} {label}" for key, label in STATUS_LABELS.items())
    title = f'<div class="title">{esc(document.title)}</div>' if document.title is not None else ""
    return (
        f'<p class="meta">{len(document.statements)} statements: {esc(legend)}. '
        "Each statement of the source text is shown with the rule that encodes it and what "
        "that rule concluded for this patient.</p>"
        f'<div class="literate">{title}{"".join(e for _, e in events)}</div>'
    )


def _status(page: Page, rules: Sequence[m.Rule]) -> str:
    if not rules:
        return "not-encoded"
    outcomes = {page.ev.outcomes.get(rule.id) for rule in rules}
    if "fired" in outcomes:
        return "applied"
    if "undetermined" in outcomes:
        return "undetermined"
    return "not-applied"


def _statement(page: Page, statement: SourceStatement, rules: Sequence[m.Rule], status: str) -> str:
    ev = page.ev
    refs = ", ".join(statement.evidence)
    notes: list[str] = []
    if not rules:
        notes.append("<p>No rule of this policy encodes this statement.</p>")
    for rule in rules:
        outcome = ev.outcomes.get(rule.id, "not_fired")
        notes.append(
            f'<p><span class="badge {esc(outcome)}">{esc(OUTCOME_LABELS[outcome])}</span> '
            f"rule <code>{esc(rule.id)}</code>{_conclusion(rule)}</p>"
        )
        notes.append(f"<p>{evidence_html(page, rule.evidence)}</p>")
        if outcome == "undetermined":
            missing = next((u.missing for u in ev.undetermined if u.rule == rule.id), ())
            if missing:
                notes.append(f"<p>missing: {codes(missing)}</p>")
        elif outcome == "overridden":
            winners = next((o.overridden_by for o in ev.overridden if o.rule == rule.id), ())
            notes.append(f"<p>overridden by {codes(winners)}</p>")
        elif outcome == "not_fired":
            reason = _why_not(ev, rule.id)
            if reason:
                notes.append(f"<p>why not: {reason}</p>")
        elif outcome == "fired":
            because = _because(ev, rule.id)
            if because:
                notes.append(f"<p>because {reasons_html(because, '')}</p>")
    label = STATUS_LABELS[status]
    return (
        f'<div class="statement {esc(status)}" data-line="{statement.line}">'
        f'<p class="text"><span class="badge {esc(status)}">{esc(label)}</span> '
        f'{esc(statement.text)}<span class="ref">[{esc(refs)}]</span></p>'
        f"<aside>{''.join(notes)}</aside></div>"
    )


def _conclusion(rule: m.Rule) -> str:
    match rule.conclusion:
        case m.Recommend(action=action, strength=strength):
            label = m.STRENGTHS.get(strength, strength)
            return f": recommends <strong>{esc(action)}</strong> ({esc(label)})"
        case m.StateNote(kind=kind):
            return f": {esc(NOTE_LABELS.get(kind, kind).lower())}"
        case m.Derive(fact=fact, value=value):
            return f": derives <code>{esc(fact)} = {esc(m.value_text(value))}</code>"
    return ""


def _why_not(ev: r.Evaluation, rule_id: str) -> str:
    for entry in ev.trace or []:
        if entry.rule == rule_id:
            return why_not_html(entry, with_reads=False)
    return ""


def _because(ev: r.Evaluation, rule_id: str) -> list[r.Reason]:
    for entry in [*ev.recommendations, *ev.notes]:
        if entry.rule == rule_id:
            return list(entry.because)
    for derived in ev.derived.values():
        if derived.rule == rule_id:
            return list(derived.because)
    return []
