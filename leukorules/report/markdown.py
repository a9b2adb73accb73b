"""The auditor's report: the same content as the text report, as markdown, plus provenance.

Layout: provenance (policy id, version, sha256 of every source, facts sha256, engine); the
recommendations by section with statement, strength, evidence, the facts they fired on and
their chain; notes; derived facts; overridden rules; undetermined rules with missing facts;
gaps; for facts from a health record, the resource behind each; the outcome of every rule (and
the why-not trace when present); the evidence registry.
All text from the policy or the facts is escaped, so a statement cannot break the layout, and
control characters are written as `\\x1b` (`diagnostics.printable`), so the report is safe to
print to a terminal. Evidence is named as the source's reference (`reference [1] in the
source`); an evidence `url` becomes a link only when it is an http(s) address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from leukorules import model as m
from leukorules.diagnostics import printable
from leukorules.model import references_text
from leukorules.report.common import (
    OUTCOME_LABELS,
    all_missing,
    evidence_details,
    json_value_text,
    note_body,
    note_heading,
    provenance_sources,
    section_text,
)

if TYPE_CHECKING:
    from leukorules.result import model as r

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: str) -> str:
    """Escape markdown in running text and table cells; one line, control characters escaped."""
    flat = printable(" ".join(text.split()))
    return _SPECIAL.sub(r"\\\1", flat)


def code(text: str) -> str:
    """Inline code; a longer fence when the text itself holds backticks (string literals)."""
    flat = printable(" ".join(text.split()))
    if "`" not in flat:
        return f"`{flat}`"
    fence = "`" * (max(len(run) for run in re.findall(r"`+", flat)) + 1)
    return f"{fence} {flat} {fence}".replace("|", "\\|")


def _fact(item: r.Reason | r.Read) -> str:
    text = f"{code(item.fact)} = {md(json_value_text(item.value, item.unit))}"
    if item.derived:
        if item.rule:
            text += f" (derived by {code(item.rule)})"
        elif item.value is None:
            text += " (derived; not determined)"
    return text


def _facts(items: Sequence[r.Reason | r.Read], empty: str) -> str:
    return "; ".join(_fact(i) for i in items) if items else empty


def _ids(ids: Sequence[str], empty: str = "none") -> str:
    return ", ".join(code(i) for i in ids) if ids else empty


def _reference(evidence_id: str) -> str:
    """`reference [1] in the source`, the [1] a link to the evidence table."""
    return f"reference [\\[{md(evidence_id)}\\]](#evidence-{_anchor(evidence_id)}) in the source"


def _evidence(ids: Sequence[str], policy: r.PolicyInfo, indent: str = "") -> list[str]:
    """`- Evidence: reference [1] in the source; no citation given`; several references are
    listed one a line under the label."""
    shown = [
        "; ".join([_reference(i), *(md(d) for d in evidence_details(policy.evidence.get(i)))])
        for i in ids
    ]
    if len(shown) == 1:
        return [f"{indent}- Evidence: {shown[0]}"]
    return [f"{indent}- Evidence:", *(f"{indent}  - {line}" for line in shown)]


def _anchor(evidence_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", evidence_id.lower()).strip("-") or "x"


def _why(why: r.WhyNot | None) -> str:
    if why is None:
        return ""
    if why.reason == "condition":
        where = f" (line {why.line})" if why.line else ""
        reads = _facts(why.reads, "")
        return f"{code(why.condition or '')} is false{where}" + (f": {reads}" if reads else "")
    if why.reason == "after":
        return "comes after " + _ids(why.rules) + ", which did not fire"
    return "overridden by " + _ids(why.rules)


def render_markdown(ev: r.Evaluation) -> str:
    policy = ev.policy
    out: list[str] = [f"# Evaluation: {md(policy.title)}", ""]
    out += ["| | |", "|---|---|"]
    out.append(f"| Policy | {code(policy.id)} version {md(policy.version)} |")
    if policy.source:
        out.append(f"| Guideline source | {md(policy.source)} |")
    if policy.effective:
        out.append(f"| Effective | {policy.effective} |")
    out.append(f"| Policy sha256 | {code(policy.sha256)} |")
    for source in policy.sources:
        out.append(f"| Source file | {code(source.path)} sha256 {code(source.sha256)} |")
    out.append(f"| Facts sha256 | {code(ev.facts_sha256)} |")
    out.append(f"| Engine | {md(ev.engine.name)} {md(ev.engine.version)} |")
    counts: dict[str, int] = {}
    for outcome in ev.outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(
        f"{counts[k]} {OUTCOME_LABELS[k]}"
        for k in ("fired", "not_fired", "overridden", "undetermined")
        if counts.get(k)
    )
    out.append(f"| Rules | {len(ev.outcomes)}: {summary or 'none'} |")
    out.append("")

    out += [f"## Recommendations ({len(ev.recommendations)})", ""]
    if not ev.recommendations:
        out += ["None apply on the facts given.", ""]
    current: tuple[str, ...] | None = None
    for number, rec in enumerate(ev.recommendations, 1):
        if rec.section != current:
            current = rec.section
            out += [f"### {md(section_text(rec.section))}", ""]
        out += [f"#### {number}. {md(rec.action)} ({md(rec.strength.label)})", ""]
        out += [f"> {md(rec.statement)}", ""]
        out.append(f"- Rule: {code(rec.rule)}")
        out.append(f"- Strength: {md(rec.strength.label)} ({code(rec.strength.key)})")
        out.extend(_evidence(rec.evidence, policy))
        if rec.alternatives:
            out.append("- Alternatives: " + "; ".join(md(a) for a in rec.alternatives))
        line = f"{rec.line}" + (f", after {_ids(rec.after)}" if rec.after else "")
        out.append(f"- Line of therapy: {line}")
        out.append(f"- Because: {_facts(rec.because, 'applies to every patient')}")
        out.append(f"- Chain: {_ids(rec.chain)}")
        out.append("")

    out += [f"## Notes and cautions ({len(ev.notes)})", ""]
    if not ev.notes:
        out += ["None.", ""]
    for entry in ev.notes:
        label = note_heading(entry)
        where = md(section_text(entry.section))
        out.append(
            (f"- **{label}** ({where}): " if label else f"- ({where}) ")
            + f"{md(note_body(entry))} — rule {code(entry.rule)}"
        )
        if entry.text:
            out.append(f"  - Statement: {md(entry.statement)}")
        out.extend(_evidence(entry.evidence, policy, "  "))
        out.append(f"  - Because: {_facts(entry.because, 'applies to every patient')}")
        if entry.chain:
            out.append(f"  - Chain: {_ids(entry.chain)}")
    if ev.notes:
        out.append("")

    out += ["## Derived facts", ""]
    if not ev.derived:
        out += ["None determined.", ""]
    else:
        out += ["| Fact | Value | Derived by | Because | Chain |", "|---|---|---|---|---|"]
        for name, derived in ev.derived.items():
            out.append(
                f"| {code(name)} | {md(json_value_text(derived.value))} | {_ids(derived.rules)} "
                f"| {_facts(derived.because, 'no facts needed')} | {_ids(derived.chain)} |"
            )
        out.append("")

    out += ["## Overridden", ""]
    if not ev.overridden:
        out += ["None.", ""]
    else:
        for loser in ev.overridden:
            out.append(
                f"- {code(loser.rule)} ({md(loser.kind)}): condition held, overridden by "
                f"{_ids(loser.overridden_by)}"
            )
        out.append("")

    open_items = len(ev.undetermined) + len(ev.undetermined_gaps)
    out += [f"## Undetermined: information needed ({open_items})", ""]
    if not open_items:
        out += ["None: every rule was decided by the facts given.", ""]
    else:
        out += [
            "| Rule | Kind | Statement | Missing facts | Stays unknown |",
            "|---|---|---|---|---|",
        ]
        for item in ev.undetermined:
            out.append(
                f"| {code(item.rule)} | {md(item.kind)} | {md(item.statement)} "
                f"| {_ids(item.missing, '—')} | {_ids(item.unresolved, '—')} |"
            )
        for open_gap in ev.undetermined_gaps:
            what = (
                f"{section_text(open_gap.section)}: no statement for this case, which may be "
                "this patient's"
            )
            out.append(
                f"| {code(open_gap.id)} | gap | {md(what)} "
                f"| {_ids(open_gap.missing, '—')} | {_ids(open_gap.unresolved, '—')} |"
            )
        needed = all_missing([*ev.undetermined, *ev.undetermined_gaps])
        out.append("")
        if needed:
            out += [f"To decide these, find out: {_ids(needed)}.", ""]

    out += ["## Guideline gaps relevant to this patient", ""]
    if not ev.gaps:
        out += ["None.", ""]
    for gap in ev.gaps:
        note = f": {md(gap.note)}" if gap.note else ""
        out.append(f"- {code(gap.id)} ({md(section_text(gap.section))}){note}")
    if ev.gaps:
        out.append("")

    if ev.provenance is not None:
        out += ["## Facts from the record", ""]
        out += ["| Fact | Value | From |", "|---|---|---|"]
        for fact, found in ev.provenance.items():
            if found.value is None:
                reason = found.reason or "no source gives it"
                out.append(f"| {code(fact)} | unknown | {md(reason)} |")
                continue
            sources = "; ".join(md(source) for source in provenance_sources(found))
            out.append(f"| {code(fact)} | {md(json_value_text(found.value))} | {sources or '—'} |")
        out.append("")

    out += ["## Outcome of every rule", ""]
    why = {entry.rule: entry for entry in ev.trace} if ev.trace is not None else {}
    if ev.trace is not None:
        out += ["| Rule | Outcome | Why not / missing |", "|---|---|---|"]
    else:
        out += ["| Rule | Outcome |", "|---|---|"]
    for rule_id, outcome in ev.outcomes.items():
        if ev.trace is None:
            out.append(f"| {code(rule_id)} | {OUTCOME_LABELS[outcome]} |")
            continue
        traced = why[rule_id]
        detail = _why(traced.why_not)
        if traced.outcome == "undetermined":
            detail = "missing " + _ids(traced.missing, "nothing that can be supplied")
        out.append(f"| {code(rule_id)} | {OUTCOME_LABELS[outcome]} | {detail} |")
    out.append("")

    out += [
        "## Evidence",
        "",
        "| Reference in the source | Citation | GRADE | Certainty | Links |",
        "|---|---|---|---|---|",
    ]
    for evidence_id, info in policy.evidence.items():
        links = [
            f"[{label}]({md(target)})"
            for label, target in (
                ("url", info.url if info.url and m.is_web_address(info.url) else None),
                ("doi", f"https://doi.org/{info.doi}" if info.doi else None),
                ("pmid", f"https://pubmed.ncbi.nlm.nih.gov/{info.pmid}/" if info.pmid else None),
            )
            if target
        ]
        out.append(
            f'| <a id="evidence-{_anchor(evidence_id)}"></a>\\[{md(evidence_id)}\\] '
            f"| {md(info.citation) if info.citation else 'no citation given'} "
            f"| {md(info.grade or '—')} | {md((info.certainty or '—').replace('_', ' '))} "
            f"| {' '.join(links) or '—'} |"
        )
    return "\n".join(out) + "\n"


def _dependencies(deps: Sequence[r.Dependency]) -> str:
    return ", ".join(f"{code(d.rule)} ({OUTCOME_LABELS[d.outcome]})" for d in deps)


def render_explanation_markdown(ex: r.Explanation) -> str:
    out = [f"# Explanation: {code(ex.rule)}", ""]
    if ex.statement:
        out += [f"> {md(ex.statement)}", ""]
    out.append(f"- Kind: {md(ex.kind)}")
    out.append(f"- Section: {md(section_text(ex.section))}")
    if ex.evidence:
        out.append(f"- Evidence: {references_text(ex.evidence, md)}")
    out.append(f"- Outcome: **{OUTCOME_LABELS[ex.outcome]}**")
    if ex.because:
        out.append(f"- Because: {_facts(ex.because, '')}")
    if ex.missing:
        out.append(f"- Missing facts: {_ids(ex.missing)}")
    if ex.unresolved:
        out.append(f"- Stays unknown: {_ids(ex.unresolved)}")
    if ex.why_not:
        out.append(f"- Why not: {_why(ex.why_not)}")
    if ex.after:
        out.append(
            "- After: "
            + ", ".join(f"{code(d.rule)} ({OUTCOME_LABELS[d.outcome]})" for d in ex.after)
        )
    if ex.overridden_by:
        out.append(
            "- Overridden by: "
            + ", ".join(f"{code(d.rule)} ({OUTCOME_LABELS[d.outcome]})" for d in ex.overridden_by)
        )
    out += ["", "## Condition", ""]

    def step(node: r.ConditionStep, depth: int) -> None:
        reads = _facts(node.reads, "")
        out.append(
            "  " * depth
            + f"- {code(node.text)} → **{node.truth}**"
            + (f" ({reads})" if reads else "")
        )
        for child in node.children:
            step(child, depth + 1)

    step(ex.condition, 0)
    return "\n".join(out) + "\n"
