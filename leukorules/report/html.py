"""The HTML report of one evaluation: a single self-contained file an auditor can read and archive.

Input: an `Evaluation` (ideally with its trace), the checked policy it came from, the patient's
facts, and optionally the guideline's source text. Output: one HTML document as a string.

What it holds, in the order a clinician needs it: a header naming the policy, with the counts
of what follows; first, the recommendations grouped by guideline section, each with its
strength, statement, evidence (as the source's reference numbers) and the facts it fired on;
then the notes and cautions, what is undetermined with the facts that would decide it, and the
guideline's gaps; after those, the patient's facts (every input fact of the policy, unknown ones
marked) and the derived facts; the recommendation chain as an inline SVG diagram (facts ->
derived facts -> rules -> recommendations); a literate view (the guideline text itself, every
statement marked applied, not applied or undetermined for this patient, with its rule and
evidence beside it); the full why-not trace in a collapsed table; and the policy, source and
facts hashes in the footer. The parts live beside this module: `html_results` (what the
guideline says for this patient), `html_facts` (facts and chain), `html_literate`,
`html_trace`, `html_common` (escaping, evidence) and `html_style` (the stylesheet).

Guarantees: no external resource of any kind (inline CSS and SVG, no script, no web font, no
link to fetch; a Content-Security-Policy forbids loading anything), so the file opens offline and
unchanged in years; every piece of text from the policy, the facts or the guideline is escaped
(facts and statements are untrusted as HTML); no statement is cut short; the same inputs give
the same bytes. The guideline text is read only from a regular file beside the policy or in its
`source/` folder (`authoring.coverage.default_source`).
"""

from __future__ import annotations

from collections.abc import Mapping

from leukorules import model as m
from leukorules.authoring.coverage import default_source
from leukorules.report.html_common import Page, esc
from leukorules.report.html_facts import chain_section, facts_section
from leukorules.report.html_literate import literate_section
from leukorules.report.html_results import (
    gaps_section,
    notes_section,
    recommendations_section,
    undetermined_section,
)
from leukorules.report.html_style import CSS
from leukorules.report.html_trace import trace_section
from leukorules.result import model as r
from leukorules.version import __version__

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
# The table of contents, in page order: what the guideline says first, the workings after.
CONTENTS = (
    ("recommendations", "Recommendations"),
    ("notes", "Notes and cautions"),
    ("undetermined", "Undetermined"),
    ("gaps", "Gaps"),
    ("facts", "Patient facts"),
    ("chain", "Chain"),
    ("guideline", "Guideline"),
    ("trace", "Trace"),
    ("hashes", "Hashes"),
)


def find_guideline_text(policy: m.Policy) -> str | None:
    """The guideline source the policy names (`source "..."`): a regular file beside the policy
    or in its `source/` folder, never one elsewhere; None when there is none to read."""
    path = default_source(policy)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def render_html(
    evaluation: r.Evaluation,
    policy: m.Policy,
    facts: Mapping[str, object],
    guideline_text: str | None = None,
) -> str:
    """The report as one HTML document. `facts` are the patient's input facts (validated values
    or the raw document); `guideline_text` None looks for the source the policy names."""
    if guideline_text is None:
        guideline_text = find_guideline_text(policy)
    page = Page(evaluation, policy, facts, guideline_text)
    title = f"{evaluation.policy.title or evaluation.policy.id}: decision report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="leukorules ' + esc(__version__) + '">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        _header(page),
        "<main>",
        recommendations_section(page),
        notes_section(page),
        undetermined_section(page),
        gaps_section(page),
        facts_section(page),
        chain_section(page),
        literate_section(page),
        trace_section(page),
        _footer(page),
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _header(page: Page) -> str:
    info = page.ev.policy
    meta = [f"policy <code>{esc(info.id)}</code> version {esc(info.version)}"]
    if info.effective:
        meta.append(f"effective {esc(info.effective)}")
    if info.source:
        meta.append(f"guideline source: {esc(info.source)}")
    toc = "".join(f'<a href="#{key}">{esc(text)}</a>' for key, text in CONTENTS)
    return (
        '<header class="report"><div class="inner">'
        f"<h1>{esc(info.title or info.id)}</h1>"
        f'<p class="meta">Decision report for one patient · {" · ".join(meta)}</p>'
        f"{_summary(page)}"
        f'<nav class="toc" aria-label="Contents">{toc}</nav>'
        "</div></header>"
    )


def _summary(page: Page) -> str:
    """One line of counts, each linking to its section. (The unknown facts that would decide
    the undetermined are listed in that section: a long list here would push the
    recommendations off the first screen.)"""
    ev = page.ev
    counts = [
        (len(ev.recommendations), "recommendations", "recommendations"),
        (len(ev.notes), "notes and cautions", "notes"),
        (len(ev.undetermined) + len(ev.undetermined_gaps), "undetermined", "undetermined"),
        (len(ev.overridden), "overridden", "recommendations"),
        (len(ev.gaps), "guideline gaps", "gaps"),
    ]
    items = "".join(
        f'<li><a href="#{target}"><span class="count">{n}</span> '
        f'<span class="label">{esc(label)}</span></a></li>'
        for n, label, target in counts
    )
    return f'<div id="summary"><ul class="summary">{items}</ul></div>'


def _footer(page: Page) -> str:
    ev = page.ev
    rows = [
        ("Policy", f"{ev.policy.id} {ev.policy.version}", ev.policy.sha256),
        *[("Policy source", s.path, s.sha256) for s in ev.policy.sources],
        ("Patient facts", "canonical JSON of the known input facts", ev.facts_sha256),
        ("Engine", f"{ev.engine.name} {ev.engine.version}", ""),
    ]
    body = "".join(
        f"<tr><td>{esc(what)}</td><td>{esc(name)}</td><td class='hash'>{esc(digest)}</td></tr>"
        for what, name, digest in rows
    )
    return (
        '<footer class="report" id="hashes"><h2>Hashes</h2>'
        "<table><thead><tr><th></th><th>What</th><th>sha256</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
        f"<p>Generated by leukorules {esc(__version__)}. This file is self-contained: it "
        "loads nothing from any network and can be archived as it is.</p></footer>"
    )
