"""What the guideline says for this patient, as HTML: the sections a clinician reads first.

Input: a `Page`. Output: the recommendations (by guideline section, each with its strength,
statement, evidence and the facts it fired on), the notes, cautions and background, the
overridden rules, what is undetermined with the facts that would decide it, and the guideline's
gaps. Every statement is shown whole; every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from leukorules.report.common import all_missing, note_body, note_heading
from leukorules.report.html_common import (
    Page,
    anchor,
    codes,
    definition_list,
    esc,
    evidence_html,
    reasons_html,
    section_title,
)
from leukorules.result import model as r


def recommendations_section(page: Page) -> str:
    ev = page.ev
    out = ['<section id="recommendations"><h2>Recommendations</h2>']
    if not ev.recommendations:
        out.append('<p class="empty">No recommendation applies to these facts.</p>')
    for section, entries in _by_section(ev.recommendations):
        out.append(f"<h3>{esc(section)}</h3>")
        out.extend(_recommendation_card(page, entry) for entry in entries)
    if ev.overridden:
        out.append("<h3>Overridden</h3>")
        for entry in ev.overridden:
            out.append(
                '<div class="card overridden">'
                f'<span class="badge overridden">overridden</span>'
                f'<span class="rule-id">{esc(entry.rule)}</span>'
                f"<blockquote>{esc(entry.statement)}</blockquote>"
                f"<p>Its condition held, but it was overridden by "
                f"{codes(entry.overridden_by)}.</p></div>"
            )
    out.append("</section>")
    return "".join(out)


def _recommendation_card(page: Page, entry: r.Recommendation) -> str:
    rows = [
        ("Evidence", evidence_html(page, entry.evidence)),
        ("Because", reasons_html(entry.because, "applies to every patient")),
    ]
    if entry.alternatives:
        rows.append(("Alternatives", esc(", ".join(entry.alternatives))))
    if entry.after:
        rows.append(("After", codes(entry.after)))
    if entry.line > 1:
        rows.append(("Line of therapy", esc(entry.line)))
    if entry.chain:
        rows.append(("Builds on", codes(entry.chain)))
    return (
        f'<div class="card recommendation" id="{anchor("rule", entry.rule)}">'
        f'<span class="action">{esc(entry.action)}</span> '
        f'<span class="badge strength">{esc(entry.strength.label)}</span>'
        f'<span class="rule-id">{esc(entry.rule)}</span>'
        f"<blockquote>{esc(entry.statement)}</blockquote>"
        f"{definition_list(rows)}</div>"
    )


def notes_section(page: Page) -> str:
    ev = page.ev
    out = ['<section id="notes"><h2>Notes, cautions and background</h2>']
    if not ev.notes:
        out.append('<p class="empty">None.</p>')
    for section, entries in _by_section(ev.notes):
        out.append(f"<h3>{esc(section)}</h3>")
        out.extend(_note_card(page, entry) for entry in entries)
    out.append("</section>")
    return "".join(out)


def _note_card(page: Page, entry: r.Note) -> str:
    # What the note says leads, labelled with its kind unless its words already name it ("Note
    # that ..."); the guideline's statement is quoted when the note's own text differs from it.
    heading = note_heading(entry)
    label = f'<span class="action">{esc(heading)}:</span> ' if heading else ""
    quote = f"<blockquote>{esc(entry.statement)}</blockquote>" if entry.text else ""
    rows = [
        ("Evidence", evidence_html(page, entry.evidence)),
        ("Because", reasons_html(entry.because, "applies to every patient")),
    ]
    return (
        f'<div class="card {esc(entry.kind)}" id="{anchor("rule", entry.rule)}">'
        f'<p class="note-text">{label}{esc(note_body(entry))}'
        f'<span class="rule-id">{esc(entry.rule)}</span></p>'
        f"{quote}{definition_list(rows)}</div>"
    )


def undetermined_section(page: Page) -> str:
    ev = page.ev
    if not ev.undetermined and not ev.undetermined_gaps:
        body = '<p class="empty">Nothing is undetermined: every rule was decided.</p>'
    else:
        rows = []
        for entry in ev.undetermined:
            what = entry.action if entry.action else entry.kind
            missing = codes(entry.missing) if entry.missing else "—"
            if entry.unresolved:
                missing += f"<br>stays unknown: {codes(entry.unresolved)}"
            rows.append(
                f"<tr><td><code>{esc(entry.rule)}</code></td><td>{esc(what)}</td>"
                f"<td>{esc(entry.statement)}</td><td>{missing}</td></tr>"
            )
        for gap in ev.undetermined_gaps:
            missing = codes(gap.missing) if gap.missing else "—"
            what = (
                f"{section_title(gap.section)}: the guideline makes no statement for this case, "
                "which may be this patient's"
            )
            rows.append(
                f"<tr><td><code>{esc(gap.id)}</code></td><td>guideline gap</td>"
                f"<td>{esc(what)}</td><td>{missing}</td></tr>"
            )
        needed = all_missing([*ev.undetermined, *ev.undetermined_gaps])
        find_out = f"<p>To decide these, find out: {codes(needed)}.</p>" if needed else ""
        body = (
            f"{find_out}<table><thead><tr><th>Rule</th><th>Would conclude</th>"
            "<th>Statement</th><th>Missing facts</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return f'<section id="undetermined"><h2>Undetermined: information needed</h2>{body}</section>'


def gaps_section(page: Page) -> str:
    ev = page.ev
    if not ev.gaps:
        body = '<p class="empty">No guideline gap concerns this patient.</p>'
    else:
        rows = "".join(
            f"<tr><td><code>{esc(gap.id)}</code></td><td>{esc(section_title(gap.section))}</td>"
            f"<td>{esc(gap.note or '')}</td></tr>"
            for gap in ev.gaps
        )
        body = (
            '<p class="meta">The guideline makes no statement for these situations, which '
            "apply to this patient.</p><table><thead><tr><th>Gap</th><th>Section</th>"
            f"<th>Note</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return f'<section id="gaps"><h2>Guideline gaps</h2>{body}</section>'


Entry = TypeVar("Entry", r.Recommendation, r.Note)


def _by_section(entries: Sequence[Entry]) -> list[tuple[str, list[Entry]]]:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(section_title(entry.section), []).append(entry)
    return list(groups.items())
