"""One evaluation -> CDS Hooks cards: what a clinician sees inside the EHR.

Input: an `Evaluation` of the compiled engine, the checked policy (fact descriptions), the
provenance of the facts (which resource gave each), where the card's full report is served, and
the service's name. Output: `Card`s, in this order: one card per fired recommendation (result
order: section, then line of therapy), one per fired caution, then at most one "information
needed" card listing the facts to find out; or, instead of all of these, one warning card when
the data is invalid or contradictory (`problem_card`): never a recommendation on such data.

Indicator from the strength the guideline words (the card's urgency, CDS Hooks' only scale):

| strength | indicator |
|---|---|
| `crucial` | critical |
| `first_line`, `primary`, `recommended` | warning: a recommendation that applies now |
| `suggested`, `may_be_considered`, `may_help`, `unqualified` | info |
| a caution note | warning |
| information needed | info |
| invalid or contradictory data | warning |

Every summary is one line of fewer than 140 characters; details are GitHub-flavoured markdown
with the statement verbatim (quoted), the evidence reference, and the facts that decided it,
each with the resource that supplied it. Text from the policy and the record is escaped.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from leukorules import model as m
from leukorules.codesystems import SYSTEM_NAMES
from leukorules.diagnostics import Diagnostic, printable
from leukorules.fhir.provenance import FactProvenance
from leukorules.report.common import evidence_details, json_value_text, section_text
from leukorules.result import model as r
from leukorules.service.protocol import SUMMARY_MAX, Card, CardSource, Coding, Indicator, Link

INDICATORS: Mapping[str, Indicator] = {
    "crucial": "critical",
    "first_line": "warning",
    "primary": "warning",
    "recommended": "warning",
}
REPORT_LINK_LABEL = "Full decision report (every rule, the facts and the guideline)"
# Characters that start markdown or HTML constructs in running text (not parentheses, which
# only matter after a closing bracket, escaped here too).
_SPECIAL = "\\`*_[]<>#|~&"
_ESCAPES = {ord(ch): "\\" + ch for ch in _SPECIAL}


@dataclass(frozen=True, slots=True)
class CardContext:
    """What every card of one decision shares."""

    policy: m.Policy
    evaluation: r.Evaluation
    provenance: Mapping[str, FactProvenance]
    report_url: str | None

    @property
    def label(self) -> str:
        info = self.evaluation.policy
        return one_line(f"{info.title or info.id} (version {info.version})", 100)

    def links(self) -> list[Link] | None:
        if self.report_url is None:
            return None
        return [Link(label=REPORT_LINK_LABEL, url=self.report_url, type="absolute")]

    def source(self, rule: str, evidence: Sequence[str], section: Sequence[str]) -> CardSource:
        """The guideline and the evidence reference; the topic names the rule."""
        info = self.evaluation.policy
        label = self.label
        if evidence:
            shown = ", ".join(f"[{e}]" for e in evidence)
            label = f"{label}, reference{'s' if len(evidence) > 1 else ''} {shown}"
        url = next(
            (info.evidence[e].url for e in evidence if e in info.evidence and info.evidence[e].url),
            None,
        )
        topic = Coding(
            system=f"urn:leukorules:{info.id}:rule",
            code=rule,
            display=one_line(section_text(section), 200),
        )
        return CardSource(label=one_line(label, 200), url=url, topic=topic)


def indicator_of(strength: str) -> Indicator:
    return INDICATORS.get(strength, "info")


@functools.lru_cache(maxsize=8192)
def md(text: str) -> str:
    """Markdown-escaped, one line, control characters shown as escapes. Cached: most texts are
    the policy's (statements, sections, fact descriptions), the same on every card."""
    return printable(" ".join(text.split())).translate(_ESCAPES)


def one_line(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line of at most `limit` characters (an ellipsis where it was cut)."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def recommendation_card(entry: r.Recommendation, context: CardContext) -> Card:
    strength = entry.strength
    summary = (
        entry.action if strength.key == "unqualified" else f"{entry.action} ({strength.label})"
    )
    lines = [f"> {md(entry.statement)}", ""]
    lines.append(f"- **Strength:** {md(strength.label)}")
    lines.extend(_evidence_lines(entry.evidence, context.evaluation.policy))
    lines.append(f"- **Section:** {md(section_text(entry.section))}")
    if entry.line > 1 or entry.after:
        after = ", ".join(f"`{a}`" for a in entry.after)
        lines.append(f"- **Line of therapy:** {entry.line}" + (f", after {after}" if after else ""))
    if entry.alternatives:
        lines.append(f"- **Alternatives:** {md(', '.join(entry.alternatives))}")
    lines.append(f"- **Decided by:** {_because(entry.because, context.provenance)}")
    return Card(
        uuid=str(uuid.uuid4()),
        summary=one_line(summary),
        indicator=indicator_of(strength.key),
        detail="\n".join(lines),
        source=context.source(entry.rule, entry.evidence, entry.section),
        links=context.links(),
    )


def caution_card(entry: r.Note, context: CardContext) -> Card:
    text = entry.text or entry.statement
    lines = [f"> {md(entry.statement)}", ""]
    if entry.text:
        lines.append(f"- **Caution:** {md(entry.text)}")
    lines.extend(_evidence_lines(entry.evidence, context.evaluation.policy))
    lines.append(f"- **Section:** {md(section_text(entry.section))}")
    lines.append(f"- **Decided by:** {_because(entry.because, context.provenance)}")
    return Card(
        uuid=str(uuid.uuid4()),
        summary=one_line(f"Caution: {text}"),
        indicator="warning",
        detail="\n".join(lines),
        source=context.source(entry.rule, entry.evidence, entry.section),
        links=context.links(),
    )


def information_needed_card(context: CardContext) -> Card | None:
    """One card for every undetermined recommendation and caution: the facts to find out, each
    with the statements it would decide (and why the record left it unknown, if it said)."""
    pending = [e for e in context.evaluation.undetermined if e.kind in ("recommend", "caution")]
    if not pending:
        return None
    deciding: dict[str, list[r.Undetermined]] = {}
    for entry in pending:
        for fact in entry.missing:
            deciding.setdefault(fact, []).append(entry)
    count = len(pending)
    summary = (
        "Information needed: 1 recommendation depends on facts not yet known"
        if count == 1
        else f"Information needed: {count} recommendations depend on facts not yet known"
    )
    lines = ["Find out these facts to decide the statements below them:", ""]
    for fact, entries in deciding.items():
        declared = context.policy.facts.get(fact)
        description = f": {md(declared.description)}" if declared and declared.description else ""
        lines.append(f"- `{fact}`{description}")
        known = context.provenance.get(fact)
        if known is not None and known.reason:
            lines.append(f"  - the record leaves it unknown: {md(known.reason)}")
        for entry in entries:
            lines.append(f"  - decides: {md(entry.statement)} (`{entry.rule}`)")
    unresolved = sorted({f for e in pending for f in e.unresolved} - set(deciding))
    if unresolved:
        lines.append("")
        lines.append("Also undetermined (derived): " + ", ".join(f"`{f}`" for f in unresolved))
    policy_id = context.evaluation.policy.id
    return Card(
        uuid=str(uuid.uuid4()),
        summary=one_line(summary),
        indicator="info",
        detail="\n".join(lines),
        source=CardSource(
            label=context.label,
            topic=Coding(
                system=f"urn:leukorules:{policy_id}:rule",
                code="information-needed",
                display="Facts to find out",
            ),
        ),
        links=context.links(),
    )


def decision_cards(context: CardContext) -> list[Card]:
    """Every card of one evaluation, in the order the module docstring gives."""
    cards = [recommendation_card(e, context) for e in context.evaluation.recommendations]
    cards.extend(caution_card(n, context) for n in context.evaluation.notes if n.kind == "caution")
    needed = information_needed_card(context)
    if needed is not None:
        cards.append(needed)
    return cards


def problem_card(
    title: str, problems: Iterable[Diagnostic | str], label: str, policy_id: str
) -> Card:
    """The one card for data the service will not decide on: invalid FHIR, sources that
    disagree, facts that contradict each other, a record of another patient."""
    lines = [
        "No recommendation was made: the guideline is not applied to data that is invalid or "
        "contradicts itself. Correct the record at its source, then open the chart again.",
        "",
    ]
    for problem in problems:
        if isinstance(problem, Diagnostic):
            hint = f" ({_escaped(problem.hint)})" if problem.hint else ""
            lines.append(f"- {_escaped(problem.message)} \\[{problem.code}\\]{hint}")
        else:
            lines.append(f"- {_escaped(problem)}")
    return Card(
        uuid=str(uuid.uuid4()),
        summary=one_line(title),
        indicator="warning",
        detail="\n".join(lines),
        source=CardSource(
            label=one_line(label, 200),
            topic=Coding(system=f"urn:leukorules:{policy_id}:rule", code="data-problem"),
        ),
    )


def _escaped(text: str) -> str:
    """Markdown-safe text that keeps the diagnostics' `code spans` as they are (inside a code
    span nothing is markup, and a backslash would show)."""
    flat = printable(" ".join(text.split()))
    parts = re.split(r"(`[^`]*`)", flat)
    return "".join(
        part
        if part.startswith("`") and part.endswith("`") and len(part) > 1
        else part.translate(_ESCAPES)
        for part in parts
    )


def _evidence_lines(ids: Sequence[str], policy: r.PolicyInfo) -> list[str]:
    lines = []
    for evidence_id in ids:
        details = "; ".join(evidence_details(policy.evidence.get(evidence_id)))
        url = policy.evidence[evidence_id].url if evidence_id in policy.evidence else None
        where = f"reference \\[{md(evidence_id)}\\] in the source"
        if url and url.startswith(("https://", "http://")):
            where = f"[{where}]({url.replace(')', '%29').replace(' ', '%20')})"
        lines.append(f"- **Evidence:** {where}; {md(details)}")
    return lines


def _because(reasons: Sequence[r.Reason], provenance: Mapping[str, FactProvenance]) -> str:
    if not reasons:
        return "no facts needed (the statement applies to every patient)"
    return "; ".join(_reason(item, provenance) for item in reasons)


def _reason(item: r.Reason, provenance: Mapping[str, FactProvenance]) -> str:
    text = f"`{item.fact}` = {md(json_value_text(item.value, item.unit))}"
    if item.derived and item.rule:
        return f"{text} (derived by `{item.rule}`)"
    known = provenance.get(item.fact)
    if known is None:
        return text
    return f"{text} (from {md(sources_text(known))})" if known.sources else text


def sources_text(known: FactProvenance, limit: int = 3) -> str:
    """The resources that gave a fact its value, each once with its codes and date:
    `Condition/c1 (ICD-10-CM G04.00, G04.01), 2025-01-15`."""
    by_resource: dict[str, list[str]] = {}
    dates: dict[str, str] = {}
    for source in known.sources:
        name = (
            f"{source.resource_type}/{source.resource_id}"
            if source.resource_id
            else source.location
        )
        codes = by_resource.setdefault(name, [])
        if source.code is not None:
            system = SYSTEM_NAMES.get(source.system or "", source.system or "")
            codes.append(f"{system} {source.code}".strip())
        if source.date:
            dates.setdefault(name, source.date)
    shown = []
    for name, codes in list(by_resource.items())[:limit]:
        text = name + (f" ({', '.join(dict.fromkeys(codes))})" if codes else "")
        shown.append(text + (f", {dates[name]}" if name in dates else ""))
    if len(by_resource) > limit:
        shown.append(f"and {len(by_resource) - limit} more")
    return "; ".join(shown)
