"""Guideline coverage: does every statement of the source document have a rule quoting it?

Input: the guideline's plain text and a checked `Policy`. Output: a `CoverageReport` saying, for
each statement of the source, which rules quote it and whether their evidence and section agree,
plus the rules that quote text the source does not contain and the headings with no statement.

How the source is read (plain text marks no heading levels, so the reading rule is fixed here and
documented for authors):
- A line ending in an evidence number (`... 4`, or `... 1, 2`) is a statement; a leading bullet
  (`- `, `* `, `• `) and the trailing number are not part of its text.
- Any other non-blank line is a heading. The first line of the document, when it is a plain
  heading, is the document's title and not part of any section path.
- A bullet heading (`- For medication-induced PML:`) is a sub-heading under the current plain
  heading; the next bullet heading replaces it, the next plain heading closes it. Its bullet and
  trailing colon are not part of its title.
- Consecutive plain headings nest (`A` directly followed by `B` makes `B` a child of `A`). A run
  of k plain headings after a statement replaces the last k levels of the current path: a single
  heading after statements is a sibling of the heading those statements were under.
Texts are compared whitespace-insensitively (runs of white space count as one space) and
otherwise exactly; section titles also ignore a trailing colon.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from leukorules import model as m
from leukorules.check.declarations import find_guideline_source

Status = Literal["covered", "missing", "evidence mismatch", "section mismatch"]
STATUSES: tuple[Status, ...] = ("covered", "missing", "evidence mismatch", "section mismatch")

_BULLET = re.compile(r"^(?:[-*\u2022])\s+")
_STATEMENT = re.compile(r"^(?P<text>.*?\S)\s+(?P<refs>\d+(?:\s*,\s*\d+)*)$")
_LETTER = re.compile(r"[^\W\d_]")


def normalize_text(text: str) -> str:
    """White space runs collapse to one space; nothing else changes."""
    return " ".join(text.split())


def normalize_title(title: str) -> str:
    return normalize_text(title).removesuffix(":").rstrip()


def normalize_path(path: Sequence[str]) -> tuple[str, ...]:
    return tuple(normalize_title(p) for p in path)


def show_path(path: Sequence[str]) -> str:
    return " > ".join(path) if path else "(top level)"


# --- reading the source -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceStatement:
    text: str
    evidence: tuple[str, ...]
    section: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class SourceHeading:
    path: tuple[str, ...]  # the heading's own title is the last element
    line: int

    @property
    def title(self) -> str:
        return self.path[-1]


@dataclass(frozen=True, slots=True)
class SourceDocument:
    path: str
    title: str | None
    statements: tuple[SourceStatement, ...]
    headings: tuple[SourceHeading, ...]

    def empty_headings(self) -> tuple[SourceHeading, ...]:
        """Headings with no statement under them, directly or in any sub-heading."""
        filled = {s.section[:i] for s in self.statements for i in range(len(s.section) + 1)}
        return tuple(h for h in self.headings if h.path not in filled)


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    kind: Literal["statement", "heading", "subheading"]
    text: str
    evidence: tuple[str, ...] = ()


def _classify(number: int, raw: str) -> _Line:
    stripped = raw.strip()
    bullet = _BULLET.match(stripped)
    body = stripped[bullet.end() :] if bullet else stripped
    found = _STATEMENT.match(body)
    if found and _LETTER.search(found["text"]):
        refs = tuple(r.strip() for r in found["refs"].split(","))
        return _Line(number, "statement", found["text"], refs)
    if bullet:
        return _Line(number, "subheading", normalize_title(body))
    return _Line(number, "heading", normalize_text(body))


def split_source(text: str, path: str = "<source>") -> SourceDocument:
    """Split a guideline's text into its statements and headings (see the module docstring)."""
    lines = [_classify(n, raw) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]
    title: str | None = None
    if lines and lines[0].kind == "heading":
        title = lines[0].text
        lines = lines[1:]
    statements: list[SourceStatement] = []
    headings: list[SourceHeading] = []
    stack: list[str] = []
    sub: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.kind == "heading":
            run = [line]
            while index + len(run) < len(lines) and lines[index + len(run)].kind == "heading":
                run.append(lines[index + len(run)])
            base = stack[: max(len(stack) - len(run), 0)]
            stack = [*base, *(h.text for h in run)]
            for depth, heading in enumerate(run, len(base) + 1):
                headings.append(SourceHeading(tuple(stack[:depth]), heading.number))
            sub = None
            index += len(run)
            continue
        if line.kind == "subheading":
            sub = line.text
            headings.append(SourceHeading((*stack, sub), line.number))
        else:
            section = (*stack, sub) if sub is not None else tuple(stack)
            statements.append(SourceStatement(line.text, line.evidence, section, line.number))
        index += 1
    return SourceDocument(path, title, tuple(statements), tuple(headings))


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    kind: Literal["evidence mismatch", "section mismatch"]
    source: str  # what the source says
    policy: str  # what the rule says


@dataclass(frozen=True, slots=True)
class StatementCoverage:
    statement: SourceStatement
    rules: tuple[str, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def status(self) -> Status:
        if not self.rules:
            return "missing"
        kinds = {p.kind for p in self.problems}
        if "evidence mismatch" in kinds:
            return "evidence mismatch"
        if "section mismatch" in kinds:
            return "section mismatch"
        return "covered"


@dataclass(frozen=True, slots=True)
class HeadingCoverage:
    heading: SourceHeading
    gaps: tuple[str, ...]  # the policy's gaps declared under this heading


@dataclass(frozen=True)
class CoverageReport:
    policy_id: str
    policy_version: str
    source: SourceDocument
    statements: tuple[StatementCoverage, ...]
    extra_rules: tuple[m.Rule, ...] = ()  # rules quoting text the source does not contain
    empty_headings: tuple[HeadingCoverage, ...] = ()
    stray_gaps: tuple[m.Gap, ...] = ()  # gaps under no empty heading of the source

    @property
    def total(self) -> int:
        return len(self.statements)

    @property
    def covered(self) -> int:
        return sum(1 for s in self.statements if s.status == "covered")

    @property
    def percent(self) -> float:
        return 100.0 if not self.statements else 100.0 * self.covered / self.total

    def count(self, status: Status) -> int:
        return sum(1 for s in self.statements if s.status == status)

    def passes(self, fail_under: float) -> bool:
        """Coverage at least `fail_under` percent and no rule quoting text the source lacks."""
        return self.percent + 1e-9 >= fail_under and not self.extra_rules


def _show_refs(refs: Sequence[str]) -> str:
    return ", ".join(refs) if refs else "(none)"


def compare(policy: m.Policy, source: SourceDocument) -> CoverageReport:
    by_text: dict[str, list[m.Rule]] = {}
    for rule in policy.rules:
        by_text.setdefault(normalize_text(rule.statement), []).append(rule)
    source_texts = {normalize_text(s.text) for s in source.statements}
    results: list[StatementCoverage] = []
    for statement in source.statements:
        rules = by_text.get(normalize_text(statement.text), [])
        problems: list[Problem] = []
        for rule in rules:
            if sorted(rule.evidence) != sorted(statement.evidence):
                problems.append(
                    Problem(
                        rule.id,
                        "evidence mismatch",
                        _show_refs(statement.evidence),
                        _show_refs(rule.evidence),
                    )
                )
            if normalize_path(rule.section) != normalize_path(statement.section):
                problems.append(
                    Problem(
                        rule.id,
                        "section mismatch",
                        show_path(statement.section),
                        show_path(rule.section),
                    )
                )
        results.append(StatementCoverage(statement, tuple(r.id for r in rules), tuple(problems)))
    extra = tuple(r for r in policy.rules if normalize_text(r.statement) not in source_texts)
    empty = source.empty_headings()
    gaps_by_path: dict[tuple[str, ...], list[str]] = {}
    for gap in policy.gaps:
        gaps_by_path.setdefault(normalize_path(gap.section), []).append(gap.id)
    empty_paths = {normalize_path(h.path) for h in empty}
    headings = tuple(
        HeadingCoverage(h, tuple(gaps_by_path.get(normalize_path(h.path), ()))) for h in empty
    )
    stray = tuple(g for g in policy.gaps if normalize_path(g.section) not in empty_paths)
    return CoverageReport(policy.id, policy.version, source, tuple(results), extra, headings, stray)


def default_source(policy: m.Policy, folders: Sequence[Path] = ()) -> Path | None:
    """The source document a policy names (`source "..."` in its header), if it can be found.

    Looked up beside the file holding the header, then in a `source/` folder beside it; then
    the same in each of `folders` (the policy folders a command was given). Only a regular file
    inside that folder is ever returned (`check.declarations.find_guideline_source`): an
    absolute path, `..`, a symbolic link leading out, a FIFO or a device is never read.
    """
    if not policy.source:
        return None
    homes = [Path(policy.span.file).parent] if policy.span is not None else []
    homes.extend(folders)
    for home in homes:
        found, refused = find_guideline_source(policy.source, home)
        if refused is not None:
            return None  # `check` reports it; nothing is read from anywhere else
        if found is not None:
            return found
    return None


# --- rendering --------------------------------------------------------------------------------


def _rule_where(rule: m.Rule) -> str:
    return str(rule.span) if rule.span else rule.id


def summary_text(report: CoverageReport) -> str:
    parts = [
        f"{report.covered}/{report.total} statements covered ({report.percent:.1f}%)",
        f"{report.count('missing')} missing",
        f"{report.count('evidence mismatch')} evidence mismatch",
        f"{report.count('section mismatch')} section mismatch",
        f"{len(report.extra_rules)} rule(s) quoting text not in the source",
    ]
    return "coverage: " + ", ".join(parts)


def render_text(report: CoverageReport) -> str:
    out: list[str] = []
    title = f" ({report.source.title})" if report.source.title else ""
    out.append(
        f"Guideline coverage of policy {report.policy_id} {report.policy_version}".rstrip()
        + f" against {report.source.path}{title}"
    )
    header = ("line", "status", "evidence", "rule(s)", "statement")
    blocks: list[list[tuple[str, str, str, str, str]]] = []
    for item in report.statements:
        first_rule, *more_rules = item.rules or ("-",)
        block = [
            (
                str(item.statement.line),
                str(item.status),
                _show_refs(item.statement.evidence),
                first_rule,
                item.statement.text,
            )
        ]
        block.extend(("", "", "", rule, "") for rule in more_rules)
        blocks.append(block)
    rows = [header, *(row for block in blocks for row in block)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]

    def fmt(row: tuple[str, str, str, str, str]) -> str:
        cells = [row[0].rjust(widths[0]), *(row[i].ljust(widths[i]) for i in range(1, 4))]
        return "  ".join([*cells, row[4]]).rstrip()

    out.append("")
    out.append(fmt(header))
    section: tuple[str, ...] | None = None
    for item, block in zip(report.statements, blocks, strict=True):
        if item.statement.section != section:
            section = item.statement.section
            out.append(f"section: {show_path(section)}")
        out.extend(fmt(row) for row in block)
        pad = " " * (widths[0] + 2)
        for problem in item.problems:
            what = "evidence" if problem.kind == "evidence mismatch" else "section"
            out.append(
                f"{pad}! {problem.rule}: {what} is {problem.policy}; the source says "
                f"{problem.source}"
            )
    if report.extra_rules:
        out.append("")
        out.append(
            f"Rules whose statement does not occur in the source ({len(report.extra_rules)}):"
        )
        for rule in report.extra_rules:
            out.append(f"  {rule.id}  ({_rule_where(rule)})  {rule.statement!r}")
    if report.empty_headings:
        out.append("")
        out.append(f"Headings with no statement under them ({len(report.empty_headings)}):")
        for heading in report.empty_headings:
            gaps = (
                "declared as gap " + ", ".join(heading.gaps) if heading.gaps else "no gap declared"
            )
            out.append(
                f"  line {heading.heading.line}: {show_path(heading.heading.path)}  ({gaps})"
            )
    if report.stray_gaps:
        out.append("")
        out.append("Gaps declared under a heading that has statements or is not in the source:")
        for gap in report.stray_gaps:
            out.append(f"  {gap.id}  ({show_path(gap.section)})")
    out.append("")
    out.append(summary_text(report))
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(report: CoverageReport) -> str:
    out = [
        f"# Guideline coverage: {report.policy_id} {report.policy_version}".rstrip(),
        "",
        f"Source: `{report.source.path}`"
        + (f" ({report.source.title})" if report.source.title else ""),
        "",
        "| line | section | statement | evidence | rule(s) | status |",
        "|---:|---|---|---|---|---|",
    ]
    for item in report.statements:
        status: str = item.status
        if item.problems:
            status += ": " + "; ".join(
                f"{p.rule} has {p.policy}, source {p.source}" for p in item.problems
            )
        rules = ", ".join(f"`{r}`" for r in item.rules) or "—"
        out.append(
            f"| {item.statement.line} | {_md(show_path(item.statement.section))} "
            f"| {_md(item.statement.text)} | {_md(_show_refs(item.statement.evidence))} "
            f"| {rules} | {_md(status)} |"
        )
    if report.extra_rules:
        out += ["", "## Rules whose statement does not occur in the source", ""]
        out += [
            f"- `{r.id}` ({_md(_rule_where(r))}): {_md(r.statement)}" for r in report.extra_rules
        ]
    if report.empty_headings:
        out += ["", "## Headings with no statement under them", ""]
        for heading in report.empty_headings:
            gaps = ", ".join(f"`{g}`" for g in heading.gaps) or "no gap declared"
            out.append(
                f"- line {heading.heading.line}: {_md(show_path(heading.heading.path))} ({gaps})"
            )
    if report.stray_gaps:
        out += ["", "## Gaps under a heading that has statements or is not in the source", ""]
        out += [f"- `{g.id}` ({_md(show_path(g.section))})" for g in report.stray_gaps]
    out += ["", summary_text(report).replace("coverage: ", "**Coverage:** ", 1), ""]
    return "\n".join(out)


def report_json(report: CoverageReport) -> dict[str, object]:
    return {
        "policy": {"id": report.policy_id, "version": report.policy_version},
        "source": {"path": report.source.path, "title": report.source.title},
        "statements": [
            {
                "line": s.statement.line,
                "statement": s.statement.text,
                "section": list(s.statement.section),
                "evidence": list(s.statement.evidence),
                "rules": list(s.rules),
                "status": s.status,
                "problems": [
                    {"rule": p.rule, "kind": p.kind, "source": p.source, "policy": p.policy}
                    for p in s.problems
                ],
            }
            for s in report.statements
        ],
        "rules_not_in_source": [
            {
                "rule": r.id,
                "statement": r.statement,
                "file": r.span.file if r.span else None,
                "line": r.span.line if r.span else None,
            }
            for r in report.extra_rules
        ],
        "headings_without_statements": [
            {"line": h.heading.line, "section": list(h.heading.path), "gaps": list(h.gaps)}
            for h in report.empty_headings
        ],
        "gaps_not_under_an_empty_heading": [
            {"gap": g.id, "section": list(g.section)} for g in report.stray_gaps
        ],
        "summary": {
            "statements": report.total,
            "covered": report.covered,
            "missing": report.count("missing"),
            "evidence_mismatch": report.count("evidence mismatch"),
            "section_mismatch": report.count("section mismatch"),
            "rules_not_in_source": len(report.extra_rules),
            "percent": round(report.percent, 2),
        },
    }


def render_json(report: CoverageReport) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
