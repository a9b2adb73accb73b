"""What a cohort run found, counted: rows, rejections, recommendations, undetermined rules.

Input: per-batch counts from either engine, merged as they arrive. Output: a `Summary` that renders
as text (for people) and as JSON (for pipelines). Counts are of patients (evaluated rows): how many
received each recommendation, how many were undetermined for each rule and, for those, which
unknown input facts would have decided the rule; and across rules, for how many patients each
fact was missing from at least one undetermined rule.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from leukorules import model as m
from leukorules.diagnostics import Code


@dataclass
class Counts:
    """Counts of one batch, or of the whole run once merged."""

    read: int = 0
    evaluated: int = 0
    rejected: int = 0
    rejected_by_code: Counter[str] = field(default_factory=Counter)
    fired: Counter[str] = field(default_factory=Counter)
    undetermined: Counter[str] = field(default_factory=Counter)
    missing: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule, fact)
    missing_patients: Counter[str] = field(default_factory=Counter)  # fact -> patients

    def merge(self, other: Counts) -> None:
        self.read += other.read
        self.evaluated += other.evaluated
        self.rejected += other.rejected
        self.rejected_by_code.update(other.rejected_by_code)
        self.fired.update(other.fired)
        self.undetermined.update(other.undetermined)
        self.missing.update(other.missing)
        self.missing_patients.update(other.missing_patients)


@dataclass
class Summary:
    policy: m.Policy
    engine: str
    cohort: str
    results: str
    errors: str
    counts: Counts
    seconds: float = 0.0
    ignored_columns: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        c = self.counts
        rules = []
        for rule in self.policy.rules:
            missing = sorted(
                ((fact, n) for (rid, fact), n in c.missing.items() if rid == rule.id),
                key=lambda item: (-item[1], item[0]),
            )
            rules.append(
                {
                    "rule": rule.id,
                    "kind": rule.kind,
                    "fired": c.fired.get(rule.id, 0),
                    "undetermined": c.undetermined.get(rule.id, 0),
                    "missing": [{"fact": f, "patients": n} for f, n in missing],
                }
            )
        return {
            "policy": {"id": self.policy.id, "version": self.policy.version},
            "engine": self.engine,
            "cohort": self.cohort,
            "results": self.results,
            "errors": self.errors,
            "rows": {"read": c.read, "evaluated": c.evaluated, "rejected": c.rejected},
            "rejected_by_code": dict(sorted(c.rejected_by_code.items())),
            "ignored_columns": list(self.ignored_columns),
            "rules": rules,
            "missing_facts": [
                {"fact": f, "patients": n}
                for f, n in sorted(c.missing_patients.items(), key=lambda i: (-i[1], i[0]))
            ],
            "seconds": round(self.seconds, 3),
        }

    def to_text(self, top: int = 3) -> str:
        c = self.counts
        lines = [
            f"policy {self.policy.id} {self.policy.version} · engine {self.engine} · "
            f"{_seconds(self.seconds)}",
            f"rows: {c.read:,} read, {c.evaluated:,} evaluated, {c.rejected:,} rejected",
            f"results: {self.results}",
            f"errors:  {self.errors}",
        ]
        if c.rejected_by_code:
            parts = []
            for code, n in sorted(c.rejected_by_code.items()):
                known = Code.__members__.get(code)
                label = known.description if known is not None else code
                parts.append(f"{code} {label}: {n:,}")
            lines.append("rejected rows by problem: " + "; ".join(parts))
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(self.ignored_columns))
        width = max(len(f"{c.evaluated:,}"), 1)
        recommendations = [r for r in self.policy.rules if r.kind == "recommend"]
        if recommendations:
            lines.append("")
            lines.append(f"Recommendations (patients who received each, of {c.evaluated:,})")
            for rule in recommendations:
                n = c.fired.get(rule.id, 0)
                action = rule.conclusion.action if isinstance(rule.conclusion, m.Recommend) else ""
                lines.append(f"  {n:>{width},}  {_percent(n, c.evaluated)}  {rule.id}: {action}")
        others = [r for r in self.policy.rules if r.kind != "recommend" and c.fired.get(r.id)]
        if others:
            lines.append("")
            lines.append("Other conclusions (patients)")
            for rule in others:
                n = c.fired[rule.id]
                lines.append(
                    f"  {n:>{width},}  {_percent(n, c.evaluated)}  {rule.id} ({rule.kind})"
                )
        undetermined = [r for r in self.policy.rules if c.undetermined.get(r.id)]
        if undetermined:
            lines.append("")
            lines.append("Undetermined (patients; the unknown facts that would decide it)")
            by_rule: dict[str, list[tuple[str, int]]] = {}
            for (rid, fact), n in c.missing.items():
                by_rule.setdefault(rid, []).append((fact, n))
            for rule in sorted(undetermined, key=lambda r: -c.undetermined[r.id]):
                n = c.undetermined[rule.id]
                facts = sorted(by_rule.get(rule.id, []), key=lambda i: (-i[1], i[0]))
                shown = ", ".join(f"{f} {k:,}" for f, k in facts[:top])
                if len(facts) > top:
                    shown += f", +{len(facts) - top} more"
                lines.append(
                    f"  {n:>{width},}  {_percent(n, c.evaluated)}  {rule.id}"
                    + (f"  missing: {shown}" if shown else "")
                )
        if c.missing_patients:
            lines.append("")
            lines.append(
                "Facts most often missing (patients with an undetermined rule they decide)"
            )
            ranked = sorted(c.missing_patients.items(), key=lambda i: (-i[1], i[0]))
            for fact, n in ranked[:10]:
                lines.append(f"  {n:>{width},}  {_percent(n, c.evaluated)}  {fact}")
        return "\n".join(lines) + "\n"


def _percent(n: int, total: int) -> str:
    return f"{100.0 * n / total:5.1f}%" if total else "    -"


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s"
