"""The trace of an evaluation, as HTML: every rule, its outcome and why it did or did not fire.

Input: a `Page` whose evaluation was run with a trace (without one, the section says so).
Output: a table inside a closed `<details>`, so it takes one line of the page until opened; and
the why-not of one rule, which the literate view reuses.
"""

from __future__ import annotations

from leukorules.report.common import OUTCOME_LABELS
from leukorules.report.html_common import Page, codes, esc, reasons_html
from leukorules.result import model as r


def trace_section(page: Page) -> str:
    ev = page.ev
    if ev.trace is None:
        return (
            '<section id="trace"><h2>Trace</h2><p class="empty">This evaluation was run '
            "without a trace; evaluate with the trace to include every rule's why-not."
            "</p></section>"
        )
    rows = []
    for entry in ev.trace:
        rule = page.rules.get(entry.rule)
        statement = rule.statement if rule else ""
        rows.append(
            f"<tr><td><code>{esc(entry.rule)}</code></td><td>{esc(entry.kind)}</td>"
            f'<td><span class="badge {esc(entry.outcome)}">'
            f"{esc(OUTCOME_LABELS[entry.outcome])}</span></td>"
            f"<td>{esc(entry.condition)}</td><td>{why_not_html(entry)}</td>"
            f"<td>{esc(statement)}</td></tr>"
        )
    fired = sum(1 for e in ev.trace if e.outcome == "fired")
    return (
        '<section id="trace"><h2>Trace</h2>'
        '<details class="trace"><summary>Every rule, its outcome and why it did or did not '
        f"fire ({len(ev.trace)} rules, {fired} fired)</summary>"
        "<table><thead><tr><th>Rule</th><th>Kind</th><th>Outcome</th><th>Condition</th>"
        "<th>Why not / missing</th><th>Statement</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></details></section>"
    )


def why_not_html(entry: r.TraceEntry, with_reads: bool = True) -> str:
    why = entry.why_not
    parts = []
    if why is not None:
        if why.reason == "condition":
            where = f" (line {why.line})" if why.line else ""
            parts.append(f"<code>{esc(why.condition or '')}</code> is false{esc(where)}")
            if why.reads and with_reads:
                parts.append("read: " + reasons_html(why.reads, ""))
        elif why.reason == "after":
            parts.append(f"comes after {codes(why.rules)}, which did not fire")
        else:
            parts.append(f"overridden by {codes(why.rules)}")
    if entry.missing:
        parts.append(f"missing: {codes(entry.missing)}")
    return "<br>".join(parts) if parts else "—"
