"""The HTML report of one evaluation: a single self-contained file an auditor can read and archive.

Input: an `Evaluation` (ideally with its trace), the checked policy it came from, the patient's
facts, and optionally the guideline's source text. Output: one HTML document as a string.

What it holds: a summary; the patient's facts (every input fact of the policy, unknown ones
marked) and the derived facts; the recommendations and notes grouped by guideline section with
statement, strength and evidence; the recommendation chain as an inline SVG diagram (facts ->
derived facts -> rules -> recommendations); undetermined rules with the facts that would decide
them; the guideline's gaps; a literate view (the guideline text itself, every statement marked
applied, not applied or undetermined for this patient, with its rule and evidence beside it); the
full why-not trace in a collapsible table; and the policy, source and facts hashes in the footer.

Guarantees: no external resource of any kind (inline CSS and SVG, no script, no web font, no
link to fetch; a Content-Security-Policy forbids loading anything), so the file opens offline and
unchanged in years; every piece of text from the policy, the facts or the guideline is escaped
(facts and statements are untrusted as HTML); the same inputs give the same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from leukorules import model as m
from leukorules.authoring.coverage import (
    SourceStatement,
    default_source,
    normalize_text,
    split_source,
)
from leukorules.authoring.diagram_svg import render_svg
from leukorules.authoring.graph import Edge, Graph, Node, NodeKind
from leukorules.report.common import all_missing, json_value_text
from leukorules.report.html_style import CSS
from leukorules.result import model as r
from leukorules.version import __version__

SECTION_SEPARATOR = " › "
OUTCOME_LABELS = {
    "fired": "fired",
    "not_fired": "not fired",
    "undetermined": "undetermined",
    "overridden": "overridden",
}
STATUS_LABELS = {
    "applied": "applied",
    "not-applied": "not applied",
    "undetermined": "undetermined",
    "not-encoded": "not encoded",
}
NOTE_LABELS = {"note": "Note", "caution": "Caution", "background": "Background"}
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(prefix: str, name: str) -> str:
    """An id attribute value derived from a name; ids are escaped like any other text."""
    return esc(f"{prefix}-{name}")


def find_guideline_text(policy: m.Policy) -> str | None:
    """The guideline source the policy names (`source "..."`), beside it or in `source/`."""
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
    return _Report(evaluation, policy, facts, guideline_text).render()


class _Report:
    def __init__(
        self,
        evaluation: r.Evaluation,
        policy: m.Policy,
        facts: Mapping[str, object],
        guideline_text: str | None,
    ) -> None:
        self.ev = evaluation
        self.policy = policy
        self.facts = facts
        self.guideline_text = guideline_text
        self.rules = {rule.id: rule for rule in policy.rules}

    # --- helpers

    def evidence_html(self, ids: Sequence[str]) -> str:
        parts = []
        for evidence_id in ids:
            info = self.ev.policy.evidence.get(evidence_id)
            details = []
            if info is None:
                details.append("not declared")
            else:
                details.append(info.citation or "no citation given")
                if info.grade:
                    details.append(f"GRADE {info.grade}")
                if info.certainty:
                    details.append(f"certainty {info.certainty.replace('_', ' ')}")
                for label, value in (("PMID", info.pmid), ("DOI", info.doi), ("URL", info.url)):
                    if value:
                        details.append(f"{label} {value}")
            parts.append(
                f'<span class="evidence">evidence <strong>{esc(evidence_id)}</strong> '
                f"({esc('; '.join(details))})</span>"
            )
        return "; ".join(parts) if parts else '<span class="empty">none</span>'

    def reason_text(self, item: r.Reason | r.Read) -> str:
        text = f"{item.fact} = {json_value_text(item.value, item.unit)}"
        if item.derived:
            rule = getattr(item, "rule", None)
            text += f" (derived by {rule})" if rule else " (derived)"
        return text

    def reasons_html(self, items: Iterable[r.Reason | r.Read], empty: str) -> str:
        texts = [self.reason_text(item) for item in items]
        if not texts:
            return f'<span class="empty">{esc(empty)}</span>'
        return "; ".join(f"<code>{esc(t)}</code>" for t in texts)

    def fact_value(self, name: str) -> object:
        return self.facts.get(name)

    # --- document

    def render(self) -> str:
        ev = self.ev
        title = f"{ev.policy.title or ev.policy.id}: decision report"
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
            self.header(),
            "<main>",
            self.summary(),
            self.facts_section(),
            self.chain_section(),
            self.recommendations_section(),
            self.undetermined_section(),
            self.gaps_section(),
            self.literate_section(),
            self.trace_section(),
            self.footer(),
            "</main>",
            "</body>",
            "</html>",
        ]
        return "\n".join(parts) + "\n"

    def header(self) -> str:
        info = self.ev.policy
        meta = [f"policy <code>{esc(info.id)}</code> version {esc(info.version)}"]
        if info.effective:
            meta.append(f"effective {esc(info.effective)}")
        if info.source:
            meta.append(f"guideline source: {esc(info.source)}")
        links = [
            ("summary", "Summary"),
            ("facts", "Patient facts"),
            ("chain", "Chain"),
            ("recommendations", "Recommendations"),
            ("undetermined", "Undetermined"),
            ("gaps", "Gaps"),
            ("guideline", "Guideline"),
            ("trace", "Trace"),
            ("hashes", "Hashes"),
        ]
        toc = "".join(f'<a href="#{key}">{esc(text)}</a>' for key, text in links)
        return (
            '<header class="report"><div class="inner">'
            f"<h1>{esc(info.title or info.id)}</h1>"
            f'<p class="meta">Decision report for one patient · {" · ".join(meta)}</p>'
            f'<nav class="toc" aria-label="Contents">{toc}</nav>'
            "</div></header>"
        )

    def summary(self) -> str:
        ev = self.ev
        counts = [
            (len(ev.recommendations), "recommendations"),
            (len(ev.notes), "notes and cautions"),
            (len(ev.undetermined) + len(ev.undetermined_gaps), "undetermined"),
            (len(ev.overridden), "overridden"),
            (len(ev.gaps), "guideline gaps"),
        ]
        items = "".join(
            f'<li><span class="count">{n}</span><span class="label">{esc(label)}</span></li>'
            for n, label in counts
        )
        missing = all_missing([*ev.undetermined, *ev.undetermined_gaps])
        extra = ""
        if missing:
            extra = (
                "<p>Unknown facts that would decide the undetermined rules: "
                + ", ".join(f"<code>{esc(name)}</code>" for name in missing)
                + "</p>"
            )
        return (
            '<section id="summary"><h2>Summary</h2>'
            f'<ul class="summary">{items}</ul>{extra}</section>'
        )

    # --- facts

    def facts_section(self) -> str:
        rows = []
        unknown = []
        for fact in self.policy.input_facts:
            value = self.fact_value(fact.name)
            if value is None:
                unknown.append(
                    f'<code title="{esc(fact.description or "")}">{esc(fact.name)}</code>'
                )
                continue
            rows.append(
                f'<tr id="{_anchor("fact", fact.name)}"><td><code>{esc(fact.name)}</code></td>'
                f'<td class="value">{esc(m.value_text(value, fact))}</td>'
                f"<td>{esc(fact.description or '')}</td></tr>"
            )
        if rows:
            table = (
                "<table><thead><tr><th>Fact</th><th>Value</th><th>Meaning</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        else:
            table = '<p class="empty">No fact was given: every fact is unknown.</p>'
        if unknown:
            table += (
                f"<h3>Unknown ({len(unknown)} of {len(self.policy.input_facts)} facts)</h3>"
                f'<p class="unknown-facts">{", ".join(unknown)}</p>'
            )
        derived_rows = []
        for name, entry in self.ev.derived.items():
            unit = _unit(self.policy.facts.get(name))
            derived_rows.append(
                f"<tr><td><code>{esc(name)}</code></td>"
                f'<td class="value">{esc(json_value_text(entry.value, unit))}</td>'
                f"<td>{esc(', '.join(entry.rules))}</td>"
                f"<td>{self.reasons_html(entry.because, 'no facts needed')}</td></tr>"
            )
        derived = (
            "<h3>Derived facts</h3><table><thead><tr><th>Fact</th><th>Value</th>"
            "<th>Derived by</th><th>Because</th></tr></thead>"
            f"<tbody>{''.join(derived_rows)}</tbody></table>"
            if derived_rows
            else '<h3>Derived facts</h3><p class="empty">None could be derived.</p>'
        )
        return (
            '<section id="facts"><h2>Patient facts</h2>'
            f'<p class="meta">facts sha256 <code>{esc(self.ev.facts_sha256)}</code></p>'
            f"{table}{derived}</section>"
        )

    # --- recommendations and notes

    def recommendations_section(self) -> str:
        ev = self.ev
        out = ['<section id="recommendations"><h2>Recommendations</h2>']
        if not ev.recommendations:
            out.append('<p class="empty">No recommendation applies to these facts.</p>')
        for section, entries in _by_section(ev.recommendations):
            out.append(f"<h3>{esc(section)}</h3>")
            out.extend(self.recommendation_card(entry) for entry in entries)
        out.append("<h3>Notes, cautions and background</h3>")
        if not ev.notes:
            out.append('<p class="empty">None.</p>')
        out.extend(self.note_card(entry) for entry in ev.notes)
        if ev.overridden:
            out.append("<h3>Overridden</h3>")
            for entry in ev.overridden:
                out.append(
                    '<div class="card overridden">'
                    f'<span class="badge overridden">overridden</span>'
                    f'<span class="rule-id">{esc(entry.rule)}</span>'
                    f"<blockquote>{esc(entry.statement)}</blockquote>"
                    f"<p>Its condition held, but it was overridden by "
                    f"{_codes(entry.overridden_by)}.</p></div>"
                )
        out.append("</section>")
        return "".join(out)

    def recommendation_card(self, entry: r.Recommendation) -> str:
        rows = [
            ("Evidence", self.evidence_html(entry.evidence)),
            ("Because", self.reasons_html(entry.because, "applies to every patient")),
        ]
        if entry.alternatives:
            rows.append(("Alternatives", esc(", ".join(entry.alternatives))))
        if entry.after:
            rows.append(("After", _codes(entry.after)))
        if entry.line > 1:
            rows.append(("Line of therapy", esc(entry.line)))
        if entry.chain:
            rows.append(("Builds on", _codes(entry.chain)))
        return (
            f'<div class="card recommendation" id="{_anchor("rule", entry.rule)}">'
            f'<span class="action">{esc(entry.action)}</span> '
            f'<span class="badge strength">{esc(entry.strength.label)}</span>'
            f'<span class="rule-id">{esc(entry.rule)}</span>'
            f"<blockquote>{esc(entry.statement)}</blockquote>"
            f"{_definition_list(rows)}</div>"
        )

    def note_card(self, entry: r.Note) -> str:
        label = NOTE_LABELS.get(entry.kind, entry.kind)
        body = f"<p>{esc(entry.text)}</p>" if entry.text else ""
        rows = [
            ("Evidence", self.evidence_html(entry.evidence)),
            ("Because", self.reasons_html(entry.because, "applies to every patient")),
        ]
        return (
            f'<div class="card {esc(entry.kind)}" id="{_anchor("rule", entry.rule)}">'
            f'<span class="action">{esc(label)}</span>'
            f'<span class="rule-id">{esc(entry.rule)}</span>'
            f"<blockquote>{esc(entry.statement)}</blockquote>{body}"
            f"{_definition_list(rows)}</div>"
        )

    # --- chain diagram

    def chain_graph(self) -> Graph:
        ev = self.ev
        graph = Graph("How the recommendations follow from the facts")
        pending_edges: list[Edge] = []
        done_derived: set[str] = set()

        def rule_node(rule_id: str) -> str:
            key = f"rule:{rule_id}"
            rule = self.rules.get(rule_id)
            evidence = ", ".join(rule.evidence) if rule else ""
            graph.add(Node(key, "rule", rule_id, f"evidence {evidence}" if evidence else ""))
            return key

        def add_reasons(rule_key: str, because: Sequence[r.Reason]) -> None:
            for reason in because:
                fact_key = f"fact:{reason.fact}"
                value = json_value_text(reason.value, reason.unit)
                kind: NodeKind = "derived" if reason.derived else "fact"
                graph.add(Node(fact_key, kind, reason.fact, f"= {value}"))
                pending_edges.append(Edge(fact_key, rule_key, "reads"))
                if reason.derived:
                    add_derived(reason.fact)

        def add_derived(name: str) -> None:
            if name in done_derived:
                return
            done_derived.add(name)
            entry = ev.derived.get(name)
            if entry is None:
                return
            value = json_value_text(entry.value, _unit(self.policy.facts.get(name)))
            graph.add(Node(f"fact:{name}", "derived", name, f"= {value}"))
            for rule_id in entry.rules:
                key = rule_node(rule_id)
                pending_edges.append(Edge(key, f"fact:{name}", "derives", f"= {value}"))
                if rule_id == entry.rule:
                    add_reasons(key, entry.because)

        for rec in ev.recommendations:
            key = rule_node(rec.rule)
            out = f"out:{rec.rule}"
            graph.add(Node(out, "recommendation", rec.action, rec.strength.label))
            pending_edges.append(Edge(key, out, "concludes"))
            add_reasons(key, rec.because)
            for earlier in rec.after:
                pending_edges.append(Edge(key, f"rule:{earlier}", "after", "after"))
        for note in ev.notes:
            key = rule_node(note.rule)
            out = f"out:{note.rule}"
            label = NOTE_LABELS.get(note.kind, note.kind)
            graph.add(Node(out, "statement", label, note.text or note.statement))
            pending_edges.append(Edge(key, out, "concludes"))
            add_reasons(key, note.because)
        for edge in pending_edges:
            graph.connect(edge)
        return graph

    def chain_section(self) -> str:
        graph = self.chain_graph()
        if not graph.nodes:
            body = '<p class="empty">Nothing fired, so there is no chain to draw.</p>'
        else:
            body = f'<div class="diagram">{render_svg(graph)}</div>'
        return (
            '<section id="chain"><h2>Recommendation chain</h2>'
            '<p class="meta">Facts (left) → derived facts → rules, labelled with their evidence '
            "→ what they recommend or state (right). Only what fired for this patient is drawn; "
            "<code>leukorules graph</code> draws the whole policy.</p>"
            f"{body}</section>"
        )

    # --- undetermined and gaps

    def undetermined_section(self) -> str:
        ev = self.ev
        if not ev.undetermined and not ev.undetermined_gaps:
            body = '<p class="empty">Nothing is undetermined: every rule was decided.</p>'
        else:
            rows = []
            for entry in ev.undetermined:
                what = entry.action if entry.action else entry.kind
                missing = _codes(entry.missing) if entry.missing else "—"
                unresolved = _codes(entry.unresolved) if entry.unresolved else ""
                if unresolved:
                    missing += f"<br>stays unknown: {unresolved}"
                rows.append(
                    f"<tr><td><code>{esc(entry.rule)}</code></td><td>{esc(what)}</td>"
                    f"<td>{esc(entry.statement)}</td><td>{missing}</td></tr>"
                )
            for gap in ev.undetermined_gaps:
                missing = _codes(gap.missing) if gap.missing else "—"
                what = (
                    f"{_section(gap.section)}: the guideline makes no statement for this case, "
                    "which may be this patient's"
                )
                rows.append(
                    f"<tr><td><code>{esc(gap.id)}</code></td><td>guideline gap</td>"
                    f"<td>{esc(what)}</td><td>{missing}</td></tr>"
                )
            body = (
                "<table><thead><tr><th>Rule</th><th>Would conclude</th><th>Statement</th>"
                "<th>Missing facts</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
            )
        return f'<section id="undetermined"><h2>Undetermined</h2>{body}</section>'

    def gaps_section(self) -> str:
        ev = self.ev
        if not ev.gaps:
            body = '<p class="empty">No guideline gap concerns this patient.</p>'
        else:
            rows = "".join(
                f"<tr><td><code>{esc(gap.id)}</code></td><td>{esc(_section(gap.section))}</td>"
                f"<td>{esc(gap.note or '')}</td></tr>"
                for gap in ev.gaps
            )
            body = (
                '<p class="meta">The guideline makes no statement for these situations, which '
                "apply to this patient.</p><table><thead><tr><th>Gap</th><th>Section</th>"
                f"<th>Note</th></tr></thead><tbody>{rows}</tbody></table>"
            )
        return f'<section id="gaps"><h2>Guideline gaps</h2>{body}</section>'

    # --- the literate view

    def literate_section(self) -> str:
        head = '<section id="guideline"><h2>The guideline, annotated for this patient</h2>'
        if self.guideline_text is None:
            return (
                head + '<p class="empty">The guideline source text is not available to this '
                "report (the policy names no source file, or it was not found); the statements "
                "are listed with the recommendations above.</p></section>"
            )
        return head + self.literate_body(self.guideline_text) + "</section>"

    def literate_body(self, text: str) -> str:
        document = split_source(text)
        by_text: dict[str, list[m.Rule]] = {}
        for rule in self.policy.rules:
            by_text.setdefault(normalize_text(rule.statement), []).append(rule)
        events: list[tuple[int, str]] = []
        for heading in document.headings:
            level = min(len(heading.path), 3)
            events.append(
                (
                    heading.line,
                    f'<div class="heading level-{level}">{esc(heading.title)}</div>',
                )
            )
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for statement in document.statements:
            rules = by_text.get(normalize_text(statement.text), [])
            status = self.statement_status(rules)
            counts[status] += 1
            events.append((statement.line, self.literate_statement(statement, rules, status)))
        events.sort(key=lambda item: item[0])
        legend = ", ".join(f"{counts[key]} {label}" for key, label in STATUS_LABELS.items())
        title = (
            f'<div class="title">{esc(document.title)}</div>' if document.title is not None else ""
        )
        return (
            f'<p class="meta">{len(document.statements)} statements: {esc(legend)}. '
            "Each statement of the source text is shown with the rule that encodes it and what "
            "that rule concluded for this patient.</p>"
            f'<div class="literate">{title}{"".join(e for _, e in events)}</div>'
        )

    def statement_status(self, rules: Sequence[m.Rule]) -> str:
        if not rules:
            return "not-encoded"
        outcomes = {self.ev.outcomes.get(rule.id) for rule in rules}
        if "fired" in outcomes:
            return "applied"
        if "undetermined" in outcomes:
            return "undetermined"
        return "not-applied"

    def literate_statement(
        self, statement: SourceStatement, rules: Sequence[m.Rule], status: str
    ) -> str:
        refs = ", ".join(statement.evidence)
        notes: list[str] = []
        if not rules:
            notes.append("<p>No rule of this policy encodes this statement.</p>")
        for rule in rules:
            outcome = self.ev.outcomes.get(rule.id, "not_fired")
            notes.append(
                f'<p><span class="badge {esc(outcome)}">{esc(OUTCOME_LABELS[outcome])}</span> '
                f"rule <code>{esc(rule.id)}</code>{self.conclusion_text(rule)}</p>"
            )
            notes.append(f"<p>{self.evidence_html(rule.evidence)}</p>")
            if outcome == "undetermined":
                missing = next((u.missing for u in self.ev.undetermined if u.rule == rule.id), ())
                if missing:
                    notes.append(f"<p>missing: {_codes(missing)}</p>")
            elif outcome == "overridden":
                winners = next(
                    (o.overridden_by for o in self.ev.overridden if o.rule == rule.id), ()
                )
                notes.append(f"<p>overridden by {_codes(winners)}</p>")
            elif outcome == "not_fired":
                reason = self.why_not_of(rule.id)
                if reason:
                    notes.append(f"<p>why not: {reason}</p>")
            elif outcome == "fired":
                because = self.because_of(rule.id)
                if because:
                    notes.append(f"<p>because {self.reasons_html(because, '')}</p>")
        label = STATUS_LABELS[status]
        return (
            f'<div class="statement {esc(status)}" data-line="{statement.line}">'
            f'<p class="text"><span class="badge {esc(status)}">{esc(label)}</span> '
            f'{esc(statement.text)}<span class="ref">[{esc(refs)}]</span></p>'
            f"<aside>{''.join(notes)}</aside></div>"
        )

    def conclusion_text(self, rule: m.Rule) -> str:
        match rule.conclusion:
            case m.Recommend(action=action, strength=strength):
                label = m.STRENGTHS.get(strength, strength)
                return f": recommends <strong>{esc(action)}</strong> ({esc(label)})"
            case m.StateNote(kind=kind):
                return f": {esc(NOTE_LABELS.get(kind, kind).lower())}"
            case m.Derive(fact=fact, value=value):
                return f": derives <code>{esc(fact)} = {esc(m.value_text(value))}</code>"
        return ""

    def why_not_of(self, rule_id: str) -> str:
        for entry in self.ev.trace or []:
            if entry.rule == rule_id:
                return self.why_not_html(entry, with_reads=False)
        return ""

    def because_of(self, rule_id: str) -> list[r.Reason]:
        for entry in [*self.ev.recommendations, *self.ev.notes]:
            if entry.rule == rule_id:
                return list(entry.because)
        for derived in self.ev.derived.values():
            if derived.rule == rule_id:
                return list(derived.because)
        return []

    # --- the trace

    def trace_section(self) -> str:
        ev = self.ev
        if ev.trace is None:
            return (
                '<section id="trace"><h2>Trace</h2><p class="empty">This evaluation was run '
                "without a trace; evaluate with the trace to include every rule's why-not."
                "</p></section>"
            )
        rows = []
        for entry in ev.trace:
            rule = self.rules.get(entry.rule)
            statement = rule.statement if rule else ""
            rows.append(
                f"<tr><td><code>{esc(entry.rule)}</code></td><td>{esc(entry.kind)}</td>"
                f'<td><span class="badge {esc(entry.outcome)}">'
                f"{esc(OUTCOME_LABELS[entry.outcome])}</span></td>"
                f"<td>{esc(entry.condition)}</td><td>{self.why_not_html(entry)}</td>"
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

    def why_not_html(self, entry: r.TraceEntry, with_reads: bool = True) -> str:
        why = entry.why_not
        parts = []
        if why is not None:
            if why.reason == "condition":
                where = f" (line {why.line})" if why.line else ""
                parts.append(f"<code>{esc(why.condition or '')}</code> is false{esc(where)}")
                if why.reads and with_reads:
                    parts.append("read: " + self.reasons_html(why.reads, ""))
            elif why.reason == "after":
                parts.append(f"comes after {_codes(why.rules)}, which did not fire")
            else:
                parts.append(f"overridden by {_codes(why.rules)}")
        if entry.missing:
            parts.append(f"missing: {_codes(entry.missing)}")
        return "<br>".join(parts) if parts else "—"

    # --- footer

    def footer(self) -> str:
        ev = self.ev
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


def _unit(fact: m.Fact | None) -> str | None:
    return fact.type.unit if fact is not None else None


def _section(section: Sequence[str]) -> str:
    return SECTION_SEPARATOR.join(section) if section else "General"


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"<code>{esc(name)}</code>" for name in names)


def _definition_list(rows: Sequence[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="facts">{items}</dl>'


def _by_section(
    entries: Sequence[r.Recommendation],
) -> list[tuple[str, list[r.Recommendation]]]:
    groups: dict[str, list[r.Recommendation]] = {}
    for entry in entries:
        groups.setdefault(_section(entry.section), []).append(entry)
    return list(groups.items())
