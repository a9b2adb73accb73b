"""A run of the compiled core -> the `Evaluation` result model.

Input: a `Run` (effective and base truth of every rule, derived values, gap truths) and the facts
it was run on. Output: the `Evaluation` of `leukorules.engine.result`, with entries in their
documented order: recommendations by section, then line of therapy, then guideline order; notes,
undetermined and overridden rules by section, then guideline order; derived facts in declaration
order; gaps in guideline order. Sections are in guideline order, each ranked where its first rule
stands, so every section's entries are contiguous (a report prints each heading once); a heading
whose only rules follow its sub-sections in the source comes after them, as in the source.
"""

from __future__ import annotations

from typing import Any

from leukorules import __version__
from leukorules import model as m
from leukorules.engine import result as r
from leukorules.engine import trace as tr
from leukorules.engine.compile import ENGINE_NAME, CompiledPolicy, Run
from leukorules.engine.values import json_value

_TRUTH_TEXT: dict[bool | None, str] = {True: "true", False: "false", None: "unknown"}


def policy_info(policy: m.Policy) -> r.PolicyInfo:
    return r.PolicyInfo(
        id=policy.id,
        title=policy.title,
        version=policy.version,
        source=policy.source,
        effective=policy.effective.isoformat() if policy.effective else None,
        sha256=policy.sha256,
        sources=[r.SourceInfo(path=s.path, sha256=s.sha256) for s in policy.sources],
        evidence={
            e.id: r.EvidenceInfo(
                id=e.id,
                citation=e.citation,
                url=e.url,
                doi=e.doi,
                pmid=e.pmid,
                grade=e.grade,
                certainty=e.certainty,
            )
            for e in policy.evidence.values()
        },
    )


def _deriving_rule(run: Run, name: str) -> str | None:
    deriving = run.deriving(name)
    return run.compiled.plan.rules[deriving[0]].id if deriving else None


def reasons(run: Run, names: tuple[str, ...]) -> list[r.Reason]:
    derivers = run.compiled.plan.derivers
    return [
        r.Reason(
            fact=name,
            value=run.json_value(name),
            unit=run.unit(name),
            derived=name in derivers,
            rule=_deriving_rule(run, name) if name in derivers else None,
        )
        for name in names
    ]


def read(run: Run, name: str) -> r.Read:
    derived = name in run.compiled.plan.derivers
    return r.Read(
        fact=name,
        value=run.json_value(name),
        unit=run.unit(name),
        derived=derived,
        rule=_deriving_rule(run, name) if derived else None,
    )


def why_not(run: Run, i: int) -> r.WhyNot | None:
    """For a rule that did not fire: its first false sub-condition, or the `after` rules that did
    not fire, or the rules that overrode it. None for fired and undetermined rules."""
    plan = run.compiled.plan
    rule = plan.rules[i]
    outcome = run.outcome(i)
    if outcome in ("fired", "undetermined"):
        return None
    if outcome == "not_fired" and tr.truth_of(rule.when, run.env) is False:
        node = tr.first_false(rule.when, run.env)
        return r.WhyNot(
            reason="condition",
            condition=tr.expr_text(node, run.compiled.policy.facts),
            line=node.span.line if node.span else None,
            column=node.span.column if node.span else None,
            reads=[read(run, name) for name in tr.reads(node)],
        )
    blocked = [p for p in rule.after if run.effective[plan.index[p]] is False]
    if outcome == "not_fired" and blocked:
        return r.WhyNot(reason="after", rules=blocked)
    return r.WhyNot(reason="overridden", rules=[plan.rules[o].id for o in run.winners(i)])


class Static:
    """Per-policy parts of the result that do not depend on the patient, built once."""

    def __init__(self, compiled: CompiledPolicy) -> None:
        plan = compiled.plan
        self.entries: list[dict[str, Any]] = []
        self.keys: list[tuple[int, int, int]] = []
        for i, rule in enumerate(plan.rules):
            entry: dict[str, Any] = {
                "rule": rule.id,
                "statement": rule.statement,
                "evidence": list(rule.evidence),
                "section": list(rule.section),
            }
            self.entries.append(entry)
            self.keys.append((plan.section_rank[rule.section], plan.line[i], i))
        self.recommend: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, dict[str, Any]] = {}
        for i, rule in enumerate(plan.rules):
            conclusion = rule.conclusion
            if isinstance(conclusion, m.Recommend):
                self.recommend[i] = {
                    "action": conclusion.action,
                    "strength": {
                        "key": conclusion.strength,
                        "label": m.STRENGTHS.get(conclusion.strength, conclusion.strength),
                    },
                    "alternatives": list(conclusion.alternatives),
                    "line": plan.line[i],
                    "after": list(rule.after),
                }
            elif isinstance(conclusion, m.StateNote):
                self.notes[i] = {"kind": conclusion.kind, "text": conclusion.text}
        self.gaps = [
            {"id": gap.id, "section": list(gap.section), "note": gap.note}
            for gap in compiled.policy.gaps
        ]
        self.engine = {"name": ENGINE_NAME, "version": __version__}

    def by_section(self, indices: list[int]) -> list[int]:
        keys = self.keys
        return sorted(indices, key=lambda i: (keys[i][0], i))

    def by_section_and_line(self, indices: list[int]) -> list[int]:
        keys = self.keys
        return sorted(indices, key=keys.__getitem__)


def _reason_dicts(run: Run, names: tuple[str, ...]) -> list[dict[str, Any]]:
    derivers = run.compiled.plan.derivers
    return [
        {
            "fact": name,
            "value": run.json_value(name),
            "unit": run.unit(name),
            "derived": name in derivers,
            "rule": _deriving_rule(run, name) if name in derivers else None,
        }
        for name in names
    ]


def build_evaluation(compiled: CompiledPolicy, run: Run, trace: bool) -> r.Evaluation:
    """The result as plain data, validated into the model in one pass (one call into
    pydantic-core rather than one per entry)."""
    plan = compiled.plan
    static = compiled.static()
    entries = static.entries
    outcomes: dict[str, r.Outcome] = {}
    fired_recommend: list[int] = []
    fired_notes: list[int] = []
    undetermined: list[int] = []
    overridden: list[int] = []
    for i, rule_id in enumerate(compiled.rule_ids):
        outcome = run.outcome(i)
        outcomes[rule_id] = outcome
        if outcome == "fired":
            if i in static.recommend:
                fired_recommend.append(i)
            elif i in static.notes:
                fired_notes.append(i)
        elif outcome == "undetermined":
            undetermined.append(i)
        elif outcome == "overridden":
            overridden.append(i)

    def fired(i: int) -> dict[str, Any]:
        return {
            **entries[i],
            "because": _reason_dicts(run, run.because(i)),
            "chain": run.chain(i),
        }

    recommendations = [
        {**fired(i), **static.recommend[i]} for i in static.by_section_and_line(fired_recommend)
    ]
    notes = [{**fired(i), **static.notes[i]} for i in static.by_section(fired_notes)]
    derived: dict[str, dict[str, Any]] = {}
    for name in plan.derived_names:
        deriving = run.deriving(name)
        if deriving:
            derived[name] = {
                **fired(deriving[0]),
                "value": json_value(run.derived[name]),
                "rules": [compiled.rule_ids[j] for j in deriving],
            }
    undetermined_entries = []
    for i in static.by_section(undetermined):
        missing, unresolved = run.missing(i)
        recommend = static.recommend.get(i)
        undetermined_entries.append(
            {
                **entries[i],
                "kind": plan.rules[i].kind,
                "action": recommend["action"] if recommend else None,
                "missing": sorted(missing),
                "unresolved": sorted(unresolved),
            }
        )
    overridden_entries = [
        {
            **entries[i],
            "kind": plan.rules[i].kind,
            "overridden_by": [compiled.rule_ids[o] for o in run.winners(i)],
        }
        for i in static.by_section(overridden)
    ]
    gaps = [g for g, truth in zip(static.gaps, run.gap_truth, strict=True) if truth is True]
    trace_entries = None
    if trace:
        trace_entries = []
        for i, rule in enumerate(plan.rules):
            outcome = outcomes[rule.id]
            missing_facts = sorted(run.missing(i)[0]) if outcome == "undetermined" else []
            trace_entries.append(
                r.TraceEntry(
                    rule=rule.id,
                    kind=rule.kind,  # type: ignore[arg-type]
                    outcome=outcome,
                    condition=_TRUTH_TEXT[tr.truth_of(rule.when, run.env)],  # type: ignore[arg-type]
                    why_not=why_not(run, i),
                    missing=missing_facts,
                )
            )
    return r.Evaluation.model_validate(
        {
            "policy": compiled.policy_info(),
            "facts_sha256": run.facts_sha256(),
            "engine": static.engine,
            "outcomes": outcomes,
            "recommendations": recommendations,
            "notes": notes,
            "derived": derived,
            "undetermined": undetermined_entries,
            "gaps": gaps,
            "overridden": overridden_entries,
            "trace": trace_entries,
        }
    )
