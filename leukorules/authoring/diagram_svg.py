"""A `Graph` drawn as SVG: a layered layout computed here, so nothing needs installing.

Input: a `Graph` (`leukorules.authoring.graph`). Output: one SVG document. Nodes are laid out in
layers by topological depth (facts left, conclusions right), the order inside a layer improved by
a few barycentre sweeps; every text is escaped and wrapped, never cut short. Same graph, same
bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from leukorules.authoring.graph import EDGE_COLOURS, NODE_STYLE, Edge, Graph, Node, NodeKind

# --- SVG: a layered layout -----------------------------------------------------------------------

_CHAR_W = 7.0  # average advance of a 12px sans-serif character, generous
_LINE_H = 15.0
_PAD_X = 10.0
_PAD_Y = 7.0
_WRAP = 30
_GAP_X = 90.0
_GAP_Y = 14.0
_MARGIN = 20.0
_TITLE_H = 28.0
_LEGEND_H = 46.0
_LEGEND_W = 500.0
_WAYPOINT_H = 6.0


@dataclass
class _Box:
    key: str
    node: Node | None  # None: a waypoint of an edge that spans several layers
    lines: list[tuple[str, bool]]  # text, bold
    width: float
    height: float
    rank: int = 0
    x: float = 0.0
    y: float = 0.0

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


def _wrap(text: str, width: int = _WRAP) -> list[str]:
    """Greedy wrapping that may also break after `.`, `_`, `/` and `-` (rule ids, fact names).
    Every character is kept: a long statement makes a taller box, never one cut short."""
    lines: list[str] = []
    current = ""
    for piece in re.findall(r"\s+|[^\s._/-]*[._/-]|[^\s._/-]+", text):
        if piece.isspace():
            current += " " if current else ""
            continue
        while len(piece) > width:
            if current.strip():
                lines.append(current.rstrip())
            lines.append(piece[:width])
            piece, current = piece[width:], ""
        if len(current) + len(piece) > width and current.strip():
            lines.append(current.rstrip())
            current = ""
        current += piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def _box(node: Node) -> _Box:
    lines = [(t, True) for t in _wrap(node.label)]
    if node.detail:
        lines += [(t, False) for t in _wrap(node.detail)]
    longest = max(len(t) for t, _ in lines)
    width = max(70.0, longest * _CHAR_W + 2 * _PAD_X)
    height = len(lines) * _LINE_H + 2 * _PAD_Y
    return _Box(node.key, node, lines, width, height)


def _dependency_edges(graph: Graph) -> list[tuple[str, str]]:
    """Edges in evaluation order: `after` points from the later rule to the earlier one."""
    pairs = []
    for edge in graph.edges:
        if edge.kind == "after":
            pairs.append((edge.target, edge.source))
        else:
            pairs.append((edge.source, edge.target))
    return pairs


def layer_ranks(graph: Graph) -> dict[str, int]:
    """Longest-path depth; input facts at 0, conclusions in the last layer."""
    keys = list(graph.nodes)
    preds: dict[str, list[str]] = {k: [] for k in keys}
    succs: dict[str, list[str]] = {k: [] for k in keys}
    for source, target in _dependency_edges(graph):
        if source != target:
            preds[target].append(source)
            succs[source].append(target)
    indegree = {k: len(preds[k]) for k in keys}
    ready = [k for k in keys if indegree[k] == 0]
    rank = dict.fromkeys(keys, 0)
    while ready:
        key = ready.pop(0)
        for nxt in succs[key]:
            rank[nxt] = max(rank[nxt], rank[key] + 1)
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    # a cycle cannot come from a checked policy; if a caller's graph has one, its nodes keep
    # the depth reached so far rather than failing the drawing
    conclusions = [k for k in keys if graph.nodes[k].kind in ("recommendation", "statement")]
    last = max((rank[k] for k in keys if k not in conclusions), default=-1) + 1
    for key in conclusions:
        rank[key] = max(rank[key], last)
    return rank


@dataclass
class _Route:
    edge: Edge
    keys: list[str]  # source, waypoints in the layers between, target


@dataclass
class _Layout:
    boxes: dict[str, _Box]
    routes: list[_Route]
    width: float
    height: float


def _layout(graph: Graph, legend: bool) -> _Layout:
    boxes = {key: _box(node) for key, node in graph.nodes.items()}
    for key, rank in layer_ranks(graph).items():
        boxes[key].rank = rank
    routes = []
    for index, edge in enumerate(graph.edges):
        keys = [edge.source]
        for rank in range(boxes[edge.source].rank + 1, boxes[edge.target].rank):
            waypoint = f"~{index}:{rank}"
            boxes[waypoint] = _Box(waypoint, None, [], 0.0, _WAYPOINT_H, rank)
            keys.append(waypoint)
        keys.append(edge.target)
        routes.append(_Route(edge, keys))
    layers = _order_layers(boxes, routes)
    neighbours = _neighbours(boxes, routes)
    widths = [max((boxes[k].width for k in layer), default=0.0) for layer in layers]
    x = _MARGIN
    for index, layer in enumerate(layers):
        y = 0.0
        for key in layer:
            box = boxes[key]
            if box.node is None:
                box.x, box.width = x, widths[index]
            else:
                box.x = x + (widths[index] - box.width) / 2
            box.y = y
            y += box.height + _GAP_Y
        x += widths[index] + _GAP_X
    # vertical placement: each node as close as it can get to the mean height of its neighbours
    # in the layer just placed, keeping the layer's order and gaps (least squares, exactly)
    for sweep in range(6):
        forward = sweep % 2 == 0
        order = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for index in order:
            reference = set(layers[index - 1 if forward else index + 1])
            _place(layers[index], boxes, neighbours, reference)
    top = min((b.y for b in boxes.values()), default=0.0)
    for box in boxes.values():
        box.y += _MARGIN + _TITLE_H - top
    bottom = max((b.y + b.height for b in boxes.values()), default=_MARGIN + _TITLE_H)
    width = max(x - _GAP_X + _MARGIN, _LEGEND_W + 2 * _MARGIN if legend else 200.0)
    height = bottom + _MARGIN + (_LEGEND_H if legend else 0.0)
    return _Layout(boxes, routes, width, height)


def _neighbours(boxes: dict[str, _Box], routes: list[_Route]) -> dict[str, list[str]]:
    neighbours: dict[str, list[str]] = {k: [] for k in boxes}
    for route in routes:
        for a, b in zip(route.keys, route.keys[1:], strict=False):
            neighbours[a].append(b)
            neighbours[b].append(a)
    return neighbours


def _place(
    layer: list[str],
    boxes: dict[str, _Box],
    neighbours: dict[str, list[str]],
    reference: set[str],
) -> None:
    """Isotonic regression: z_i = y_i - offset_i must not decrease; fit z_i to the targets."""
    offsets, targets = [], []
    offset = 0.0
    for key in layer:
        box = boxes[key]
        near = [boxes[n].middle for n in neighbours[key] if n in reference]
        wanted = sum(near) / len(near) - box.height / 2 if near else box.y
        offsets.append(offset)
        targets.append(wanted - offset)
        offset += box.height + _GAP_Y
    blocks: list[list[float]] = []  # [sum, count] of pooled adjacent targets
    for target in targets:
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted = [total / count for total, count in blocks for _ in range(int(count))]
    for key, z, off in zip(layer, fitted, offsets, strict=True):
        boxes[key].y = z + off


def _order_layers(boxes: dict[str, _Box], routes: list[_Route]) -> list[list[str]]:
    count = max((b.rank for b in boxes.values()), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for key, box in boxes.items():
        layers[box.rank].append(key)
    neighbours = _neighbours(boxes, routes)
    original = {k: i for i, k in enumerate(boxes)}
    for sweep in range(8):
        forward = sweep % 2 == 0
        position = {k: i for layer in layers for i, k in enumerate(layer)}
        indices = range(1, count) if forward else range(count - 2, -1, -1)
        for index in indices:
            reference = set(layers[index - 1 if forward else index + 1])
            centres = {}
            for key in layers[index]:
                near = [position[n] for n in neighbours[key] if n in reference]
                centres[key] = sum(near) / len(near) if near else float(position[key])
            layers[index].sort(key=lambda k: (centres[k], original[k]))
            position.update({k: i for i, k in enumerate(layers[index])})
    return layers


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render_svg(
    graph: Graph, legend: bool = True, status_colours: Mapping[str, str] | None = None
) -> str:
    """An SVG document, valid standalone and inline in HTML. `status_colours` maps a node's
    `status` to a fill colour (the HTML report colours the patient's chain this way)."""
    layout = _layout(graph, legend)
    width, height = layout.width, layout.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{_esc(graph.title)}</title>",
        "<defs>",
    ]
    for kind, colour in EDGE_COLOURS.items():
        out.append(
            f'<marker id="lr-arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append(
        f'<text x="{_f(_MARGIN)}" y="{_f(_MARGIN + 12)}" font-size="14" font-weight="bold" '
        f'fill="#1d1d1d">{_esc(graph.title)}</text>'
    )
    out.append('<g fill="none">')
    labels: list[str] = []
    for route in layout.routes:
        edge = route.edge
        path, mid = _route_path([layout.boxes[k] for k in route.keys])
        colour = EDGE_COLOURS[edge.kind]
        dash = ' stroke-dasharray="5 4"' if edge.kind in ("overrides", "after") else ""
        stroke_width = "2" if edge.kind == "derives" else "1.3"
        out.append(
            f'<path d="{path}" stroke="{colour}" stroke-width="{stroke_width}"{dash} '
            f'marker-end="url(#lr-arrow-{edge.kind})"><title>{_esc(edge.kind)}: '
            f"{_esc(graph.nodes[edge.source].label)} → {_esc(graph.nodes[edge.target].label)}"
            "</title></path>"
        )
        if edge.label:
            labels.append(
                f'<text x="{_f(mid[0])}" y="{_f(mid[1] - 4)}" text-anchor="middle" '
                f'font-size="10" fill="{colour}" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{_esc(edge.label)}</text>'
            )
    out.append("</g>")
    out.extend(labels)
    colours = status_colours or {}
    for box in layout.boxes.values():
        if box.node is not None:
            out.append(_node_svg(box, box.node, colours.get(box.node.status)))
    if legend:
        out.append(_legend_svg(_MARGIN, height - _LEGEND_H + 8))
    out.append("</svg>")
    return "\n".join(out) + "\n"


Point: TypeAlias = tuple[float, float]


def _curve(start: Point, end: Point, bend: float) -> str:
    (sx, sy), (tx, ty) = start, end
    return f" C{_f(sx + bend)},{_f(sy)} {_f(tx - bend)},{_f(ty)} {_f(tx)},{_f(ty)}"


def _route_path(boxes: list[_Box]) -> tuple[str, Point]:
    """SVG path data and the point where the edge's label goes."""
    source, target = boxes[0], boxes[-1]
    sy, ty = source.middle, target.middle
    if target.rank > source.rank:  # forward: right side, through the waypoints, to left side
        current: Point = (source.x + source.width, sy)
        path = f"M{_f(current[0])},{_f(current[1])}"
        mid: Point | None = None
        for waypoint in boxes[1:-1]:
            entry = (waypoint.x, waypoint.middle)
            path += _curve(current, entry, max((entry[0] - current[0]) / 2, 20.0))
            current = (waypoint.x + waypoint.width, waypoint.middle)
            path += f" L{_f(current[0])},{_f(current[1])}"
            if mid is None:
                mid = ((entry[0] + current[0]) / 2, current[1])
        end = (target.x, ty)
        path += _curve(current, end, max((end[0] - current[0]) / 2, 20.0))
        if mid is None:
            mid = ((current[0] + end[0]) / 2, (current[1] + end[1]) / 2)
        return path, mid
    if target.rank < source.rank:  # backward: left side to right side
        sx, tx = source.x, target.x + target.width
        bend = -max((sx - tx) / 2, 30.0)
    else:  # same layer: an arc out to the right
        sx, tx = source.x + source.width, target.x + target.width
        bend = 40.0 + abs(ty - sy) / 6
    c1, c2 = (sx + bend, sy), (tx + (bend if target.rank == source.rank else -bend), ty)
    mid = ((sx + 3 * c1[0] + 3 * c2[0] + tx) / 8, (sy + 3 * c1[1] + 3 * c2[1] + ty) / 8)
    path = f"M{_f(sx)},{_f(sy)} C{_f(c1[0])},{_f(c1[1])} {_f(c2[0])},{_f(c2[1])} {_f(tx)},{_f(ty)}"
    return path, mid


def _node_svg(box: _Box, node: Node, status_fill: str | None) -> str:
    fill, stroke = NODE_STYLE[node.kind]
    if status_fill:
        fill = status_fill
    x, y, w, h = box.x, box.y, box.width, box.height
    kind = node.kind
    parts = [f'<g class="lr-node lr-{kind}" data-key="{_esc(node.key)}">']
    tooltip = node.label + (f" — {node.detail}" if node.detail else "")
    parts.append(f"<title>{_esc(kind)}: {_esc(tooltip)}</title>")
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"'
    if kind in ("fact", "derived"):
        radius = h / 2
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" '
            f'rx="{_f(radius)}" {common}/>'
        )
        if kind == "derived":
            parts.append(
                f'<rect x="{_f(x + 3)}" y="{_f(y + 3)}" width="{_f(w - 6)}" '
                f'height="{_f(h - 6)}" rx="{_f(radius - 3)}" fill="none" stroke="{stroke}"/>'
            )
    elif kind == "recommendation":
        cut = min(12.0, h / 2)
        points = [
            (x + cut, y),
            (x + w - cut, y),
            (x + w, y + h / 2),
            (x + w - cut, y + h),
            (x + cut, y + h),
            (x, y + h / 2),
        ]
        text = " ".join(f"{_f(px)},{_f(py)}" for px, py in points)
        parts.append(f'<polygon points="{text}" {common}/>')
    elif kind == "statement":
        fold = 10.0
        points = [(x, y), (x + w - fold, y), (x + w, y + fold), (x + w, y + h), (x, y + h)]
        text = " ".join(f"{_f(px)},{_f(py)}" for px, py in points)
        parts.append(f'<polygon points="{text}" {common}/>')
    else:
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(w)}" height="{_f(h)}" rx="3" {common}/>'
        )
    ty = y + _PAD_Y + 11
    for text, bold in box.lines:
        weight = ' font-weight="bold"' if bold else ' fill-opacity="0.8" font-size="11"'
        parts.append(
            f'<text x="{_f(x + w / 2)}" y="{_f(ty)}" text-anchor="middle" '
            f'fill="#1d1d1d"{weight}>{_esc(text)}</text>'
        )
        ty += _LINE_H
    parts.append("</g>")
    return "".join(parts)


def _legend_svg(x: float, y: float) -> str:
    items: list[str] = ['<g class="lr-legend" font-size="10" fill="#333333">']
    names: dict[NodeKind, str] = {
        "fact": "fact",
        "derived": "derived fact",
        "rule": "rule (evidence)",
        "recommendation": "recommendation",
        "statement": "note / caution",
    }
    cx = x
    for kind, name in names.items():
        fill, stroke = NODE_STYLE[kind]
        items.append(
            f'<rect x="{_f(cx)}" y="{_f(y)}" width="14" height="10" rx="2" fill="{fill}" '
            f'stroke="{stroke}"/><text x="{_f(cx + 18)}" y="{_f(y + 9)}">{_esc(name)}</text>'
        )
        cx += 26 + len(name) * 6
    cx = x
    y += 20
    for edge_kind, colour in EDGE_COLOURS.items():
        dash = ' stroke-dasharray="5 4"' if edge_kind in ("overrides", "after") else ""
        items.append(
            f'<line x1="{_f(cx)}" y1="{_f(y + 5)}" x2="{_f(cx + 22)}" y2="{_f(y + 5)}" '
            f'stroke="{colour}" stroke-width="1.5"{dash}/>'
            f'<text x="{_f(cx + 26)}" y="{_f(y + 9)}">{_esc(edge_kind)}</text>'
        )
        cx += 36 + len(edge_kind) * 6
    items.append("</g>")
    return "".join(items)
