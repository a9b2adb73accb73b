"""`leukorules graph`: golden Mermaid and DOT output, a well-formed deterministic SVG layout."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.cli import leukorules
from support.golden import Golden
from support.policies import checked, checked_paths

from leukorules import model as m
from leukorules.authoring.diagram import build_graph, render, render_dot, render_mermaid
from leukorules.authoring.diagram_svg import _layout, layer_ranks, render_svg
from leukorules.authoring.graph import Edge, Graph, Node
from leukorules.syntax.grammar import bundled_policy_dir

GOLDEN = Path(__file__).parent / "test_graph_golden"
SVG = "{http://www.w3.org/2000/svg}"


def small_policy() -> m.Policy:
    return checked_paths(GOLDEN / "small.rules")


def bundled_policy() -> m.Policy:
    return checked_paths(bundled_policy_dir())


@pytest.mark.parametrize(("fmt", "suffix"), [("mermaid", "mmd"), ("dot", "dot")])
def test_golden(fmt: str, suffix: str, golden: Golden) -> None:
    golden.check(GOLDEN / f"small.{suffix}", render(build_graph(small_policy()), fmt))


def test_graph_structure_of_small_policy() -> None:
    graph = build_graph(small_policy())
    kinds = {key: node.kind for key, node in graph.nodes.items()}
    assert kinds["fact:age"] == "fact"
    assert kinds["fact:high_risk"] == "derived"
    assert kinds["rule:treat.steroids"] == "rule"
    assert kinds["out:treat.steroids"] == "recommendation"
    assert kinds["out:treat.caution"] == "statement"
    assert "out:risk.high" not in graph.nodes  # a derivation concludes a fact, not an output
    assert graph.nodes["rule:treat.steroids"].detail == "references [1], [2] in the source"
    edges = {(e.source, e.target, e.kind, e.label) for e in graph.edges}
    assert ("fact:age", "rule:risk.high", "reads", "") in edges
    assert ("rule:risk.high", "fact:high_risk", "derives", "= true") in edges
    assert ("rule:treat.ivig", "rule:treat.steroids", "overrides", "overrides") in edges
    assert ("rule:treat.review", "rule:treat.ivig", "after", "after") in edges
    assert ("rule:treat.steroids", "out:treat.steroids", "concludes", "") in edges


def test_ranks_put_facts_first_and_conclusions_last() -> None:
    graph = build_graph(small_policy())
    ranks = layer_ranks(graph)
    assert ranks["fact:age"] == 0
    assert ranks["rule:risk.high"] == 1
    assert ranks["fact:high_risk"] == 2
    assert ranks["rule:treat.steroids"] > ranks["rule:treat.ivig"]  # the overriding rule first
    assert ranks["rule:treat.review"] > ranks["rule:treat.ivig"]  # `after` comes later
    last = max(ranks.values())
    outputs = [k for k in graph.nodes if k.startswith("out:")]
    assert outputs and all(ranks[k] == last for k in outputs)


def test_escaping_in_every_format() -> None:
    text = """
policy x { title "T" version "1" }
evidence 1 { citation "A \\"quoted\\" <b>source</b>" }
fact f: bool
rule r.one {
  statement "s"
  evidence 1
  when f
  recommend "Give <script>alert('x')</script> & \\"more\\" #1"
}
"""
    graph = build_graph(checked(text))
    mermaid = render_mermaid(graph)
    assert "<script>" not in mermaid and '"more"' not in mermaid
    assert "#60;script#62;" in mermaid and "#34;more#34;" in mermaid and "#35;1" in mermaid
    dot = render_dot(graph)
    assert '\\"more\\" #1' in dot
    svg = render_svg(graph)
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    ET.fromstring(svg)  # well-formed


def test_svg_is_well_formed_deterministic_and_without_overlaps() -> None:
    policy = bundled_policy()
    first = render_svg(build_graph(policy))
    assert first == render_svg(build_graph(policy))
    root = ET.fromstring(first)
    assert root.tag == f"{SVG}svg"
    nodes = root.findall(f".//{SVG}g[@class]")
    rule_nodes = [n for n in nodes if "lr-rule" in (n.get("class") or "")]
    assert len(rule_nodes) == len(policy.rules)
    layout = _layout(build_graph(policy), legend=True)
    boxes = [b for b in layout.boxes.values() if b.node is not None]
    for index, a in enumerate(boxes):
        assert a.x >= 0 and a.x + a.width <= layout.width
        assert a.y >= 0 and a.y + a.height <= layout.height
        for b in boxes[index + 1 :]:
            overlap_x = a.x < b.x + b.width and b.x < a.x + a.width
            overlap_y = a.y < b.y + b.height and b.y < a.y + a.height
            assert not (overlap_x and overlap_y), (a.key, b.key)


def test_svg_of_a_hand_built_graph_with_a_cycle_still_draws() -> None:
    graph = Graph("cycle")
    graph.add(Node("rule:a", "rule", "a"))
    graph.add(Node("rule:b", "rule", "b"))
    graph.connect(Edge("rule:a", "rule:b", "overrides", "overrides"))
    graph.connect(Edge("rule:b", "rule:a", "overrides", "overrides"))
    graph.connect(Edge("rule:a", "rule:missing", "reads"))  # dangling edges are ignored
    assert len(graph.edges) == 2
    ET.fromstring(render_svg(graph))


def test_unknown_format_in_the_api() -> None:
    with pytest.raises(ValueError, match="unknown graph format"):
        render(build_graph(small_policy()), "png")


def test_cli_formats_and_output_file(tmp_path: Path) -> None:
    policy = str(GOLDEN / "small.rules")
    mermaid = leukorules("graph", policy)
    assert mermaid.exit_code == 0, mermaid.output
    assert mermaid.output == (GOLDEN / "small.mmd").read_text(encoding="utf-8")
    out = tmp_path / "g.svg"
    svg = leukorules("graph", policy, "--format", "svg", "-o", str(out))
    assert svg.exit_code == 0 and svg.output == ""
    ET.fromstring(out.read_text(encoding="utf-8"))
    bundled = leukorules("graph", "--format", "dot")
    assert bundled.exit_code == 0 and bundled.output.startswith(
        "// Rule graph: leukoencephalopathy"
    )


def test_cli_errors(tmp_path: Path) -> None:
    unknown = leukorules("graph", "--format", "png")
    assert unknown.exit_code == 2 and "png" in unknown.output
    broken = tmp_path / "broken.rules"
    broken.write_text('policy x { title "t" version "1" }\nrule r { }\n', encoding="utf-8")
    bad = leukorules("graph", str(broken))
    assert bad.exit_code == 1
    assert "Traceback" not in bad.output
    missing = leukorules("graph", str(tmp_path / "nope.rules"))
    assert missing.exit_code == 1
    unwritable = leukorules(
        "graph", str(GOLDEN / "small.rules"), "-o", str(tmp_path / "no" / "such" / "x")
    )
    assert unwritable.exit_code == 1 and "cannot write" in unwritable.output
