"""The rule graph of a policy, and its renderings as Mermaid and Graphviz DOT (SVG: `diagram_svg`).

Input: a checked `Policy` (or any `Graph` built by a caller, such as the HTML report's
recommendation chain). Output: text. Nodes are input facts, derived facts, rules (labelled with
their evidence) and the recommendations or statements they conclude; edges are fact reads,
derivations, conclusions, precedence (`overrides`) and sequencing (`after`).

Guarantees: output is deterministic (same policy, same bytes) and needs nothing installed.
Every text is escaped for its format.
"""

from __future__ import annotations

import datetime
import re

from leukorules import model as m
from leukorules.authoring.diagram_svg import render_svg
from leukorules.authoring.graph import (
    EDGE_COLOURS,
    NODE_STYLE,
    Edge,
    EdgeKind,
    Graph,
    Node,
    NodeKind,
)

FORMATS = ("mermaid", "dot", "svg")


def format_value(value: object) -> str:
    """A fact value as an author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset | set | list | tuple):
        return "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    return str(value)


def rule_node(rule: m.Rule) -> Node:
    evidence = m.references_text(rule.evidence) if rule.evidence else "no evidence"
    return Node(f"rule:{rule.id}", "rule", rule.id, evidence)


def conclusion_node(rule: m.Rule) -> Node | None:
    match rule.conclusion:
        case m.Recommend(action=action, strength=strength):
            return Node(
                f"out:{rule.id}", "recommendation", action, m.STRENGTHS.get(strength, strength)
            )
        case m.StateNote(kind=kind, text=text):
            return Node(f"out:{rule.id}", "statement", kind, text or rule.statement)
        case m.Derive():
            return None


def build_graph(policy: m.Policy) -> Graph:
    graph = Graph(f"{policy.id} {policy.version}".strip())
    for fact in policy.facts.values():
        kind: NodeKind = "derived" if fact.derived else "fact"
        graph.add(Node(f"fact:{fact.name}", kind, fact.name, fact.type.describe()))
    for rule in policy.rules:
        graph.add(rule_node(rule))
        out = conclusion_node(rule)
        if out is not None:
            graph.add(out)
    for rule in policy.rules:
        key = f"rule:{rule.id}"
        for name in dict.fromkeys(m.expr_facts(rule.when)):
            graph.connect(Edge(f"fact:{name}", key, "reads"))
        if isinstance(rule.conclusion, m.Derive):
            label = "= " + format_value(rule.conclusion.value)
            graph.connect(Edge(key, f"fact:{rule.conclusion.fact}", "derives", label))
        else:
            graph.connect(Edge(key, f"out:{rule.id}", "concludes"))
        for other in rule.overrides:
            graph.connect(Edge(key, f"rule:{other}", "overrides", "overrides"))
        for other in rule.after:
            graph.connect(Edge(key, f"rule:{other}", "after", "after"))
    return graph


def render(graph: Graph, output_format: str) -> str:
    if output_format == "mermaid":
        return render_mermaid(graph)
    if output_format == "dot":
        return render_dot(graph)
    if output_format == "svg":
        return render_svg(graph)
    raise ValueError(f"unknown graph format {output_format!r}; use one of {', '.join(FORMATS)}")


# --- identifiers -----------------------------------------------------------------------------


def _identifiers(graph: Graph) -> dict[str, str]:
    """Node key -> an identifier safe in Mermaid and DOT, readable and unique."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for key in graph.nodes:
        base = re.sub(r"[^A-Za-z0-9_]", "_", key.replace(":", "_", 1))
        candidate, n = base, 2
        while candidate in used:
            candidate, n = f"{base}_{n}", n + 1
        used.add(candidate)
        ids[key] = candidate
    return ids


# --- Mermaid -----------------------------------------------------------------------------------

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    "fact": ('(["', '"])'),
    "derived": ('[["', '"]]'),
    "rule": ('["', '"]'),
    "recommendation": ('{{"', '"}}'),
    "statement": ('[/"', '"/]'),
}
_MERMAID_EDGES: dict[EdgeKind, str] = {
    "reads": "-->",
    "derives": "==>",
    "concludes": "-->",
    "overrides": "-.->",
    "after": "-.->",
}


def _mermaid_text(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"#<>&`' or ch == "\\":
            out.append(f"#{ord(ch)};")
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def render_mermaid(graph: Graph) -> str:
    ids = _identifiers(graph)
    lines = [f"%% Rule graph: {_mermaid_text(graph.title)}", "flowchart LR"]
    for kind, (fill, stroke) in NODE_STYLE.items():
        lines.append(f"  classDef {kind} fill:{fill},stroke:{stroke},color:#1d1d1d")
    for key, node in graph.nodes.items():
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = _mermaid_text(node.label)
        if node.detail:
            label += "<br/><small>" + _mermaid_text(node.detail) + "</small>"
        lines.append(f"  {ids[key]}{opening}{label}{closing}:::{node.kind}")
    for edge in graph.edges:
        arrow = _MERMAID_EDGES[edge.kind]
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    return "\n".join(lines) + "\n"


# --- Graphviz DOT ------------------------------------------------------------------------------

_DOT_SHAPES: dict[NodeKind, str] = {
    "fact": "shape=ellipse",
    "derived": "shape=ellipse, peripheries=2",
    "rule": "shape=box",
    "recommendation": "shape=hexagon",
    "statement": "shape=note",
}


def _dot_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def render_dot(graph: Graph) -> str:
    ids = _identifiers(graph)
    lines = [
        f"// Rule graph: {graph.title.replace(chr(10), ' ')}",
        f"digraph {_dot_string(graph.title)} {{",
        '  graph [rankdir=LR, fontname="Helvetica", labelloc=t, '
        f"label={_dot_string(graph.title)}];",
        '  node [fontname="Helvetica", fontsize=11, style=filled];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for key, node in graph.nodes.items():
        fill, stroke = NODE_STYLE[node.kind]
        label = node.label + (f"\n{node.detail}" if node.detail else "")
        lines.append(
            f"  {ids[key]} [label={_dot_string(label)}, {_DOT_SHAPES[node.kind]}, "
            f'fillcolor="{fill}", color="{stroke}"];'
        )
    for edge in graph.edges:
        attrs = [f'color="{EDGE_COLOURS[edge.kind]}"']
        if edge.label:
            attrs.append(f"label={_dot_string(edge.label)}")
        if edge.kind == "derives":
            attrs.append("penwidth=2")
        if edge.kind in ("overrides", "after"):
            attrs.append("style=dashed, constraint=false")
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
