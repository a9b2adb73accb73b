"""What every part of the HTML report shares: the page's inputs, escaping, and how evidence and
facts read.

Input: the evaluation, the policy, the patient's facts and the guideline text, held in one
`Page`. Output: HTML fragments (strings). Guarantees: every text taken from the policy, the facts
or the guideline passes through `esc`; ids derived from names are escaped like any other text;
evidence reads as the source's reference (`reference [1] in the source; no citation given`),
the same wording as the text and markdown reports.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from leukorules import model as m
from leukorules.report.common import (
    SECTION_SEPARATOR,
    evidence_details,
    json_value_text,
)
from leukorules.result import model as r


class Page:
    """The inputs of one report, read by every section."""

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


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(prefix: str, name: str) -> str:
    """An id attribute value derived from a name; ids are escaped like any other text."""
    return esc(f"{prefix}-{name}")


def codes(names: Iterable[str]) -> str:
    return ", ".join(f"<code>{esc(name)}</code>" for name in names)


def section_title(section: Sequence[str]) -> str:
    return SECTION_SEPARATOR.join(section) if section else "General"


def unit_of(fact: m.Fact | None) -> str | None:
    return fact.type.unit if fact is not None else None


def definition_list(rows: Sequence[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<dl class="facts">{items}</dl>'


def evidence_html(page: Page, ids: Sequence[str]) -> str:
    """One line per reference: `reference [1] in the source; no citation given; GRADE ...`,
    with the identifiers (PMID, DOI, an http(s) URL) as text: the report links to nothing."""
    parts = []
    for evidence_id in ids:
        info = page.ev.policy.evidence.get(evidence_id)
        details = evidence_details(info)
        if info is not None:
            url = info.url if info.url and m.is_web_address(info.url) else None
            for label, value in (("PMID", info.pmid), ("DOI", info.doi), ("URL", url)):
                if value:
                    details.append(f"{label} {value}")
        reference = esc(m.reference_text(evidence_id)).replace(
            f"[{esc(evidence_id)}]", f"<strong>[{esc(evidence_id)}]</strong>", 1
        )
        parts.append(f'<span class="evidence">{reference}; {esc("; ".join(details))}</span>')
    return "<br>".join(parts) if parts else '<span class="empty">none</span>'


def reason_text(item: r.Reason | r.Read) -> str:
    text = f"{item.fact} = {json_value_text(item.value, item.unit)}"
    if item.derived:
        rule = getattr(item, "rule", None)
        text += f" (derived by {rule})" if rule else " (derived)"
    return text


def reasons_html(items: Iterable[r.Reason | r.Read], empty: str) -> str:
    texts = [reason_text(item) for item in items]
    if not texts:
        return f'<span class="empty">{esc(empty)}</span>'
    return "; ".join(f"<code>{esc(t)}</code>" for t in texts)
