"""The graph a diagram draws: nodes (facts, rules, conclusions) and the edges between them.

Takes: nothing but what callers add (`leukorules.authoring.diagram.build_graph` for a whole
policy, the HTML report for one patient's chain). Gives: `Graph`, `Node` and `Edge`, which the
renderers of `diagram` (Mermaid, DOT) and `diagram_svg` (SVG) draw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

NodeKind = Literal["fact", "derived", "rule", "recommendation", "statement"]
EdgeKind = Literal["reads", "derives", "concludes", "overrides", "after"]


@dataclass(frozen=True, slots=True)
class Node:
    key: str  # stable and unique: "fact:age", "rule:ivig.first", "out:ivig.first"
    kind: NodeKind
    label: str
    detail: str = ""
    status: str = ""  # optional, for callers that colour nodes by outcome ("fired", ...)


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Graph:
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> None:
        self.nodes.setdefault(node.key, node)

    def connect(self, edge: Edge) -> None:
        if edge.source in self.nodes and edge.target in self.nodes and edge not in self.edges:
            self.edges.append(edge)

    def subgraph(self, keep: Iterable[str], title: str | None = None) -> Graph:
        wanted = set(keep)
        nodes = {k: n for k, n in self.nodes.items() if k in wanted}
        edges = [e for e in self.edges if e.source in nodes and e.target in nodes]
        return Graph(title if title is not None else self.title, nodes, edges)


# How each kind is coloured, in every drawing (fill, stroke; edge colour).
NODE_STYLE: dict[NodeKind, tuple[str, str]] = {  # fill, stroke
    "fact": ("#eaf2fb", "#3b6ea5"),
    "derived": ("#e8f5ee", "#2f7d55"),
    "rule": ("#fdf6e3", "#9a7a1c"),
    "recommendation": ("#f3ecfa", "#6b4a96"),
    "statement": ("#f4f4f4", "#666666"),
}
EDGE_COLOURS: dict[EdgeKind, str] = {
    "reads": "#7a8796",
    "derives": "#2f7d55",
    "concludes": "#6b4a96",
    "overrides": "#b03a2e",
    "after": "#9a7a1c",
}
