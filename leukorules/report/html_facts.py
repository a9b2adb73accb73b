"""The patient's facts and the recommendation chain, as HTML.

Input: a `Page`. Output: the facts section (every input fact of the policy with its value and,
for facts from a health record, the resources that gave it; the unknown ones listed by name,
then the derived facts) and the chain section: an inline SVG of
what fired for this patient, facts -> derived facts -> rules (labelled with their references in
the source) -> what they recommend or state. Texts in the diagram wrap; none is cut short.
"""

from __future__ import annotations

from collections.abc import Sequence

from leukorules import model as m
from leukorules.authoring.diagram_svg import render_svg
from leukorules.authoring.graph import Edge, Graph, Node, NodeKind
from leukorules.model import references_text
from leukorules.report.common import (
    json_value_text,
    note_body,
    note_heading,
    provenance_sources,
)
from leukorules.report.html_common import Page, anchor, esc, reasons_html, unit_of
from leukorules.result import model as r


def facts_section(page: Page) -> str:
    rows = []
    unknown = []
    # Facts from a health record name the resources behind them (`Evaluation.provenance`).
    provenance = page.ev.provenance
    for fact in page.policy.input_facts:
        value = page.facts.get(fact.name)
        if value is None:
            unknown.append(f'<code title="{esc(fact.description or "")}">{esc(fact.name)}</code>')
            continue
        sources = ""
        if provenance is not None:
            found = provenance.get(fact.name)
            given = provenance_sources(found) if found is not None else []
            sources = f"<td>{'<br>'.join(esc(source) for source in given) or '—'}</td>"
        rows.append(
            f'<tr id="{anchor("fact", fact.name)}"><td><code>{esc(fact.name)}</code></td>'
            f'<td class="value">{esc(m.value_text(value, fact))}</td>'
            f"<td>{esc(fact.description or '')}</td>{sources}</tr>"
        )
    if rows:
        source_heading = "<th>From the record</th>" if provenance is not None else ""
        table = (
            "<table><thead><tr><th>Fact</th><th>Value</th><th>Meaning</th>"
            f"{source_heading}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    else:
        table = '<p class="empty">No fact was given: every fact is unknown.</p>'
    if unknown:
        table += (
            f"<h3>Unknown ({len(unknown)} of {len(page.policy.input_facts)} facts)</h3>"
            f'<p class="unknown-facts">{", ".join(unknown)}</p>'
        )
    if provenance is not None:
        unread = [
            f"<li><code>{esc(fact)}</code>: {esc(found.reason or 'no source gives it')}</li>"
            for fact, found in provenance.items()
            if found.value is None
        ]
        if unread:
            table += f"<h3>Unknown from the record, and why</h3><ul>{''.join(unread)}</ul>"
    derived_rows = []
    for name, entry in page.ev.derived.items():
        unit = unit_of(page.policy.facts.get(name))
        derived_rows.append(
            f"<tr><td><code>{esc(name)}</code></td>"
            f'<td class="value">{esc(json_value_text(entry.value, unit))}</td>'
            f"<td>{esc(', '.join(entry.rules))}</td>"
            f"<td>{reasons_html(entry.because, 'no facts needed')}</td></tr>"
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
        f'<p class="meta">facts sha256 <code>{esc(page.ev.facts_sha256)}</code></p>'
        f"{table}{derived}</section>"
    )


def chain_graph(page: Page) -> Graph:
    """What fired for this patient, as a graph: the facts each fired rule read, the derivations
    behind them, and the recommendations and notes they concluded."""
    ev = page.ev
    graph = Graph("How the recommendations follow from the facts")
    pending_edges: list[Edge] = []
    done_derived: set[str] = set()

    def rule_node(rule_id: str) -> str:
        key = f"rule:{rule_id}"
        rule = page.rules.get(rule_id)
        evidence = references_text(rule.evidence) if rule and rule.evidence else ""
        graph.add(Node(key, "rule", rule_id, evidence))
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
        value = json_value_text(entry.value, unit_of(page.policy.facts.get(name)))
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
        heading = note_heading(note)
        # "Note that ..." is its own label: never "Note" above "Note that ..."
        label, detail = (heading, note_body(note)) if heading else (note_body(note), "")
        graph.add(Node(out, "statement", label, detail))
        pending_edges.append(Edge(key, out, "concludes"))
        add_reasons(key, note.because)
    for edge in pending_edges:
        graph.connect(edge)
    return graph


def chain_section(page: Page) -> str:
    graph = chain_graph(page)
    if not graph.nodes:
        body = '<p class="empty">Nothing fired, so there is no chain to draw.</p>'
    else:
        body = f'<div class="diagram">{render_svg(graph)}</div>'
    return (
        '<section id="chain"><h2>Recommendation chain</h2>'
        '<p class="meta">Facts (left) → derived facts → rules, labelled with their references '
        "in the source → what they recommend or state (right). Only what fired for this "
        "patient is drawn; <code>leukorules graph</code> draws the whole policy.</p>"
        f"{body}</section>"
    )
