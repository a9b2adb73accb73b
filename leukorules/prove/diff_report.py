"""`leukorules diff` output: what changed between two versions, as text or JSON.

Input: a `PolicyDiff` (`leukorules.prove.diff`), optionally a `SemanticDiff`
(`leukorules.prove.semantic_diff`) and a `CohortDiff` (`leukorules.prove.cohort_diff`). Output:
text for reviewers (the edits with their old and new text; per rule, the patients whose outcome
changes: how many, which, one example; the cohort's patients whose results differ) or one JSON
document with the same content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from leukorules import model as m
from leukorules.prove.cohort_diff import CohortDiff
from leukorules.prove.diff import PolicyDiff
from leukorules.prove.scenario import plain
from leukorules.prove.semantic_diff import SemanticDiff, Transition
from leukorules.syntax.formatter import expr_text
from leukorules.syntax.render import condition

_KINDS = (("fact", "Facts"), ("rule", "Rules"), ("gap", "Gaps"), ("constraint", "Constraints"))


def _share(count: int, total: int) -> str:
    percent = 100 * count / total if total else 0.0
    shown = f"{percent:.2g}" if percent < 1 else f"{percent:.1f}"
    return f"{count:,} patients ({shown} %)"


def _example(example: Mapping[str, m.Value]) -> str:
    if not example:
        return "every fact unknown"
    return ", ".join(f"{k}: {m.value_text(v)}" for k, v in example.items())


def _condition_text(expr: m.Expr, facts: Mapping[str, m.Fact]) -> str:
    return expr_text(condition(expr, facts))


def _transition_lines(found: Transition, total: int, facts: Mapping[str, m.Fact]) -> list[str]:
    lines = [
        f"    {found.old} -> {found.new}: {_share(found.count, total)}, "
        f"e.g. {_example(found.example)}"
    ]
    for index, expr in enumerate(found.conditions):
        lead = "when" if index == 0 else "or  "
        lines.append(f"      {lead} {_condition_text(expr, facts)}")
    if not found.complete:
        lines.append("      (and more patients than these conditions describe)")
    return lines


def render_text(diff: PolicyDiff, semantic: SemanticDiff | None, cohort: CohortDiff | None) -> str:
    old, new = diff.old, diff.new
    lines = [f"{old.id} {old.version} -> {new.id} {new.version}"]
    if not diff.edits:
        lines.append("no rule, gap, constraint or fact differs")
    for kind, title in _KINDS:
        edits = diff.of(kind)
        if not edits:
            continue
        counts = [
            f"{sum(1 for e in edits if e.status == s)} {s}" for s in ("added", "removed", "changed")
        ]
        lines += ["", f"{title}: {', '.join(counts)}"]
        for edit in edits:
            named = ", ".join(c.what for c in edit.changes) if edit.status == "changed" else ""
            lines.append(f"  {edit.status:<8} {edit.id}" + (f": {named}" if named else ""))
            for change in edit.changes:
                if edit.status != "changed":
                    lines.append(f"    {change.old or change.new}")
                elif change.old or change.new:
                    lines.append(f"    {change.what}:")
                    lines.append(f"      - {change.old}")
                    lines.append(f"      + {change.new}")
    if semantic is not None:
        lines += ["", *_semantic_lines(semantic, new.facts)]
    if cohort is not None:
        lines += ["", *_cohort_lines(cohort)]
    return "\n".join(lines) + "\n"


def _semantic_lines(semantic: SemanticDiff, facts: Mapping[str, m.Fact]) -> list[str]:
    total = semantic.total
    lines = [
        f"Patients whose outcomes change, of {total:,} patients (each fact unknown or in one of "
        "the classes its values fall in for the conditions of either version)"
    ]
    if not semantic.exact:
        lines.append("  (a condition compares two facts: the counts and conditions are not exact)")
    if not semantic.rules and not semantic.refused:
        lines.append("  none: every patient gets the same outcomes from both versions")
    for change in semantic.rules:
        lines.append(f"  {change.rule}: {_share(change.count, total)}")
        for found in change.transitions:
            lines += _transition_lines(found, total, facts)
    for found in semantic.refused:
        which = "the new version" if found.new == "refused" else "the old version"
        lines.append(f"  refused by {which} only: {_share(found.count, total)}")
        lines += _transition_lines(found, total, facts)[1:]
    return lines


def _cohort_lines(cohort: CohortDiff) -> list[str]:
    lines = [f"Cohort patients whose results change: {len(cohort.changes):,} of {cohort.records:,}"]
    for change in cohort.changes:
        parts: list[str] = []
        for label, rules in (
            ("now fires", change.fired),
            ("no longer fires", change.unfired),
            ("now undetermined", change.undetermined),
            ("now decided", change.decided),
        ):
            if rules:
                parts.append(f"{label}: {', '.join(rules)}")
        if change.refused_old is not None:
            parts.append(f"refused by the old version only ({change.refused_old})")
        if change.refused_new is not None:
            parts.append(f"refused by the new version only ({change.refused_new})")
        who = f"row {change.row}" + (f" (id {change.id})" if change.id else "")
        lines.append(f"  {who}: {'; '.join(parts)}")
    return lines


def _transition_json(found: Transition, facts: Mapping[str, m.Fact]) -> dict[str, object]:
    return {
        "from": found.old,
        "to": found.new,
        "patients": found.count,
        "conditions": [_condition_text(e, facts) for e in found.conditions],
        "complete": found.complete,
        "example": {k: plain(v) for k, v in found.example.items()},
    }


def render_json(diff: PolicyDiff, semantic: SemanticDiff | None, cohort: CohortDiff | None) -> str:
    facts = diff.new.facts
    document: dict[str, object] = {
        "old": {"id": diff.old.id, "version": diff.old.version, "sha256": diff.old.sha256},
        "new": {"id": diff.new.id, "version": diff.new.version, "sha256": diff.new.sha256},
        "edits": [
            {
                "kind": e.kind,
                "id": e.id,
                "status": e.status,
                "changes": [{"what": c.what, "old": c.old, "new": c.new} for c in e.changes],
            }
            for e in diff.edits
        ],
    }
    if semantic is not None:
        document["patients"] = {
            "total": semantic.total,
            "exact": semantic.exact,
            "rules": [
                {
                    "rule": change.rule,
                    "patients": change.count,
                    "transitions": [_transition_json(t, facts) for t in change.transitions],
                }
                for change in semantic.rules
            ],
            "refused": [_transition_json(t, facts) for t in semantic.refused],
        }
    if cohort is not None:
        document["cohort"] = {
            "records": cohort.records,
            "changes": [
                {
                    "row": c.row,
                    "id": c.id,
                    "fired": list(c.fired),
                    "unfired": list(c.unfired),
                    "undetermined": list(c.undetermined),
                    "decided": list(c.decided),
                    "refused_old": c.refused_old,
                    "refused_new": c.refused_new,
                }
                for c in cohort.changes
            ],
        }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
