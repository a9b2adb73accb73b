"""The HTML report: complete, self-contained, escaped; the literate view agrees with outcomes."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from leukorules import CompiledPolicy, load_policy
from leukorules.authoring.coverage import default_source
from leukorules.check import check_paths
from leukorules.engine.facts_file import load_facts_file
from leukorules.report.html import find_guideline_text, render_html
from leukorules.result import Evaluation
from leukorules.source import Span

ROOT = Path(__file__).resolve().parent.parent
PATIENTS = ROOT / "examples" / "patients"
VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source"}
SVG_LEAVES = {"path", "rect", "polygon", "line", "circle", "ellipse", "stop"}


class Structure(HTMLParser):
    """Collects tags, checks nesting, and records the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style", "title"):
            self.text.append(data)


def parse(document: str) -> Structure:
    parser = Structure()
    parser.feed(document)
    parser.close()
    assert not parser.problems, parser.problems[:5]
    assert parser.stack == [], parser.stack
    return parser


@pytest.fixture(scope="module")
def bundled() -> CompiledPolicy:
    return load_policy()


def patient(policy: CompiledPolicy, name: str) -> tuple[dict[str, object], Evaluation]:
    raw, problems = load_facts_file(PATIENTS / name)
    assert raw is not None, problems
    values, problems = policy.check_facts(raw)
    assert not problems
    return dict(values), policy.evaluate(values, trace=True)


def test_report_holds_every_part(bundled: CompiledPolicy) -> None:
    facts, ev = patient(bundled, "adem-plasma-exchange-nonresponder.yaml")
    document = render_html(ev, bundled.policy, facts)
    parsed = parse(document)
    text = " ".join(parsed.text)
    ids = {attrs.get("id") for _, attrs in parsed.tags}
    for section in ("summary", "facts", "recommendations", "chain", "undetermined", "gaps"):
        assert section in ids
    assert {"guideline", "trace", "hashes"} <= ids
    for rec in ev.recommendations:
        assert rec.action in text and rec.statement in text and rec.strength.label in text
    for entry in ev.undetermined:
        assert entry.rule in text
        assert all(name in text for name in entry.missing)
    assert ev.policy.sha256 in text and ev.facts_sha256 in text
    assert all(source.sha256 in text for source in ev.policy.sources)
    # the trace: every rule, collapsed in a <details>
    assert ev.trace is not None
    details = document[document.index('<details class="trace">') :]
    assert all(f"<code>{entry.rule}</code>" in details for entry in ev.trace)
    assert '<details class="trace" open' not in document
    # the chain diagram is inline SVG naming the fired rules and their facts
    svg = document[
        document.index('<section id="chain">') : document.index('<section id="guideline">')
    ]
    assert "<svg" in svg
    assert all(f'data-key="rule:{rec.rule}"' in svg for rec in ev.recommendations)
    assert all(
        f'data-key="fact:{r.fact}"' in svg for rec in ev.recommendations for r in rec.because
    )


def test_report_is_self_contained(bundled: CompiledPolicy) -> None:
    facts, ev = patient(bundled, "toluene-agitation-seizures.yaml")
    document = render_html(ev, bundled.policy, facts)
    parsed = parse(document)
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "img", "iframe", "object", "embed"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("src", "href", "action", "xlink:href"):
                assert (value or "").startswith("#"), (tag, name, value)
    without_namespace = document.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?://|//[a-z]|@import|url\((?!#)", without_namespace)
    policies = [
        attrs.get("content") or ""
        for tag, attrs in parsed.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policies and policies[0].startswith("default-src 'none';")  # nothing may load


def test_every_text_is_escaped(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "p.rules").write_text(
        f"""
policy evil {{ title "T {hostile}" version "1<b>" source "g.txt" }}
evidence 1 {{ citation "C {hostile}" }}
fact note: string "D {hostile}"
fact flag: bool
rule r.one {{
  statement "S {hostile} & more"
  evidence 1
  when flag
  recommend "A {hostile}"
}}
rule r.two {{
  statement "Second statement"
  evidence 1
  when note == "x"
  caution "N {hostile}"
}}
""",
        encoding="utf-8",
    )
    (folder / "g.txt").write_text(
        f"Title {hostile}\nHeading {hostile}\n- S {hostile} & more 1\n- Second statement 1\n",
        encoding="utf-8",
    )
    policy = load_policy(folder)
    values = policy.validate({"note": f"V {hostile}\"'", "flag": True})
    ev = policy.evaluate(values, trace=True)
    document = render_html(ev, policy.policy, values)
    parsed = parse(document)
    assert "<script" not in document and "<b>" not in document
    assert not any(tag == "script" for tag, _ in parsed.tags)
    text = " ".join(parsed.text)
    for shown in ("T ", "C ", "D ", "S ", "A ", "V ", "Title ", "Heading "):
        assert f"{shown}{hostile}" in text, shown
    assert "applied" in text  # the literate view found the guideline beside the policy


def test_literate_view_marks_statements_by_outcome(bundled: CompiledPolicy) -> None:
    facts, ev = patient(bundled, "adem-steroid-nonresponder.yaml")
    document = render_html(ev, bundled.policy, facts)
    literate = document[
        document.index('<section id="guideline">') : document.index('<section id="trace">')
    ]
    statuses = re.findall(r'<div class="statement ([a-z-]+)"', literate)
    assert statuses, "no statements in the literate view"
    assert "not-encoded" not in statuses
    policy = bundled.policy
    by_statement: dict[str, list[str]] = {}
    for rule in policy.rules:
        by_statement.setdefault(" ".join(rule.statement.split()), []).append(rule.id)
    found = re.findall(
        r'<div class="statement ([a-z-]+)" data-line="\d+"><p class="text">'
        r'<span class="badge [a-z-]+">[a-z ]+</span> (.*?)<span class="ref">',
        literate,
    )
    assert len(found) == len(statuses)
    for status, statement in found:
        outcomes = {ev.outcomes[r] for r in by_statement[" ".join(unescape(statement).split())]}
        if "fired" in outcomes:
            expected = "applied"
        elif "undetermined" in outcomes:
            expected = "undetermined"
        else:
            expected = "not-applied"
        assert status == expected, (statement, outcomes, status)
    fired_statements = {
        " ".join(rule.statement.split()) for rule in policy.rules if ev.outcomes[rule.id] == "fired"
    }
    assert statuses.count("applied") == len(fired_statements)


def test_report_without_guideline_or_trace_or_facts(bundled: CompiledPolicy) -> None:
    ev = bundled.evaluate({}, trace=False)
    document = render_html(ev, bundled.policy, {}, guideline_text=None)
    parse(document)
    assert "evaluate with the trace" in document
    assert "No fact was given" in document
    policy_without_source = load_policy(ROOT / "tests" / "test_graph_golden" / "small.rules")
    assert find_guideline_text(policy_without_source.policy) is None
    small_ev = policy_without_source.evaluate({"age": 50, "severity": "severe"}, trace=True)
    small = render_html(small_ev, policy_without_source.policy, {"age": 50, "severity": "severe"})
    parse(small)
    assert "guideline source text is not available" in small
    assert "Give steroids &lt;IV&gt;" in small


def test_report_is_deterministic(bundled: CompiledPolicy) -> None:
    facts, ev = patient(bundled, "hiv-associated-pml.yaml")
    assert render_html(ev, bundled.policy, facts) == render_html(ev, bundled.policy, facts)


def test_guideline_text_is_found_for_the_bundled_policy(bundled: CompiledPolicy) -> None:
    text = find_guideline_text(bundled.policy)
    assert text is not None and text.startswith("Treatment Approach for Leukoencephalopathy")


# --- the guideline source: beside the policy or in its source/ folder, nothing else ----------

SOURCE_POLICY = """policy demo {{ title "Guide" version "1" source "{source}" }}
evidence 1 {{ citation unknown }}
fact flag: bool
rule r.one {{ statement "Treat it" evidence 1 when flag recommend "Treat" }}
"""


def _policy_folder(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "policy"
    (folder / "source").mkdir(parents=True, exist_ok=True)
    text = SOURCE_POLICY.format(source=source)
    (folder / "p.rules").write_text(text, encoding="utf-8")
    private = tmp_path / "private"
    private.mkdir(exist_ok=True)
    (private / "notes.txt").write_text("- Treat it 1\nSECRET NOTES\n", encoding="utf-8")
    return folder


def _refusal(folder: Path) -> list[str]:
    result = check_paths([folder / "p.rules"])
    return [d.message for d in result.diagnostics if d.code == "LR209"]


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("../private/notes.txt", "climbs out of the policy's folder with `..`"),
        ("source/../../private/notes.txt", "climbs out of the policy's folder with `..`"),
        ("{private}/notes.txt", "is an absolute path"),
        ("C:\\\\\\\\private\\\\\\\\notes.txt", "is an absolute path"),
    ],
)
def test_a_source_outside_the_policy_folder_is_refused(
    tmp_path: Path, source: str, why: str
) -> None:
    folder = _policy_folder(tmp_path, source.format(private=tmp_path / "private"))
    messages = _refusal(folder)
    assert len(messages) == 1 and messages[0].endswith(why), messages


@pytest.mark.parametrize("kind", ["link to a file", "link to a folder", "fifo", "directory"])
def test_a_source_file_that_is_no_plain_file_of_the_folder_is_refused(
    tmp_path: Path, kind: str
) -> None:
    folder = _policy_folder(tmp_path, "guide.txt")
    private = tmp_path / "private"
    (private / "guide.txt").write_text("- Treat it 1\nSECRET\n", encoding="utf-8")
    if kind == "link to a file":
        (folder / "guide.txt").symlink_to(private / "notes.txt")
        why = "leads out of the policy's folder through a symbolic link"
    elif kind == "link to a folder":
        (folder / "source").rmdir()
        (folder / "source").symlink_to(private, target_is_directory=True)
        why = "leads out of the policy's folder through a symbolic link"
    elif kind == "fifo":
        os.mkfifo(folder / "source" / "guide.txt")
        why = "is a FIFO, not a regular file"
    else:
        (folder / "guide.txt").mkdir()
        why = "is a directory, not a regular file"
    messages = _refusal(folder)
    assert len(messages) == 1 and messages[0].endswith(why), messages
    # the report never reads it, even for a policy model that was not checked (built by hand)
    checked = load_policy(_policy_folder(tmp_path / "fine", "guide.txt")).policy
    moved = replace(checked, span=Span.point(str(folder / "p.rules"), 2, 1))
    assert default_source(moved) is None and find_guideline_text(moved) is None


def test_the_report_never_embeds_a_file_from_elsewhere(tmp_path: Path) -> None:
    """`check` refuses such a source; a model built by hand with one is not read either."""
    folder = _policy_folder(tmp_path, "guide.txt")
    (folder / "source" / "guide.txt").write_text("Guide\n- Treat it 1\n", encoding="utf-8")
    compiled = load_policy(folder)
    values = compiled.validate({"flag": True})
    document = render_html(compiled.evaluate(values, trace=True), compiled.policy, values)
    assert 'class="statement applied"' in document  # the source beside it is read
    for elsewhere in ("../private/notes.txt", str(tmp_path / "private" / "notes.txt")):
        moved = replace(compiled.policy, source=elsewhere)
        assert default_source(moved) is None
        page = render_html(compiled.evaluate(values, trace=True), moved, values)
        assert "SECRET" not in page and "guideline source text is not available" in page


def test_a_source_in_words_or_a_link_inside_the_folder_is_accepted(tmp_path: Path) -> None:
    folder = _policy_folder(tmp_path, "Example Society guideline, chapter 4")
    assert _refusal(folder) == []
    assert default_source(load_policy(folder).policy) is None
    linked = _policy_folder(tmp_path / "linked", "guide.txt")
    (linked / "source" / "real.txt").write_text("Guide\n- Treat it 1\n", encoding="utf-8")
    (linked / "guide.txt").symlink_to(Path("source") / "real.txt")
    assert _refusal(linked) == []
    found = default_source(load_policy(linked).policy)
    assert found is not None and found.name == "guide.txt"
