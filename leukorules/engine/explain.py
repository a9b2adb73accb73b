"""One rule (or gap), explained step by step for one patient.

Input: a `Run` of the compiled core, the policy's `ResultParts` and a rule or gap id. Output:
an `Explanation`: the outcome, every sub-condition with its truth and the values it read
(derived values name the rule that derived them), the `after` and `overrides` rules with their
outcomes, and, as the outcome asks: the facts it fired on and its upstream chain, the first
false sub-condition, or the unknown facts that would decide it.
"""

from __future__ import annotations

from leukorules import model as m
from leukorules.engine import trace as tr
from leukorules.engine.build import ResultParts, read, reason, why_not
from leukorules.engine.runtime import Run
from leukorules.result import model as r

_TRUTH: dict[bool | None, r.Truth] = {True: "true", False: "false", None: "unknown"}


class UnknownRule(KeyError):
    """The id names no rule and no gap of the policy."""


def _step(node: tr.ConditionNode, parts: ResultParts, run: Run) -> r.ConditionStep:
    return r.ConditionStep(
        text=node.text,
        kind=node.kind,
        truth=_TRUTH[node.truth],
        line=node.span.line if node.span else None,
        column=node.span.column if node.span else None,
        reads=tuple(read(parts, run, name) for name, _ in node.reads),
        children=tuple(_step(child, parts, run) for child in node.children),
    )


def explain(parts: ResultParts, run: Run, rule_id: str) -> r.Explanation:
    plan = parts.plan
    policy = plan.policy
    graph = plan.graph
    i = graph.index.get(rule_id)
    if i is None:
        for gap in policy.gaps:
            if gap.id == rule_id:
                return _explain_gap(parts, run, gap)
        raise UnknownRule(rule_id)
    rule = plan.rules[i]
    outcome = run.outcome(i)
    tree = tr.condition_tree(rule.when, run.env, policy.facts)
    missing: frozenset[str] = frozenset()
    unresolved: frozenset[str] = frozenset()
    if outcome == "undetermined":
        missing, unresolved = run.missing(i)
    fired = outcome == "fired"
    conclusion = rule.conclusion
    derives = None
    if isinstance(conclusion, m.Derive):
        fact = policy.facts.get(conclusion.fact)
        derives = f"{conclusion.fact} = {tr.literal_value_text(conclusion.value, fact)}"
    return r.Explanation(
        rule=rule.id,
        kind=parts.rules[i].kind,
        statement=rule.statement,
        section=rule.section,
        evidence=rule.evidence,
        outcome=outcome,
        condition=_step(tree, parts, run),
        after=tuple(r.Dependency(rule=p, outcome=run.outcome(graph.index[p])) for p in rule.after),
        overridden_by=tuple(
            r.Dependency(rule=plan.rule_ids[o], outcome=run.outcome(o))
            for o in graph.overridden_by.get(i, ())
        ),
        because=tuple(reason(parts, run, n) for n in run.because(i)) if fired else (),
        chain=tuple(run.chain(i)) if fired else (),
        missing=tuple(sorted(missing)),
        unresolved=tuple(sorted(unresolved)),
        why_not=why_not(parts, run, i),
        derives=derives,
    )


def _explain_gap(parts: ResultParts, run: Run, gap: m.Gap) -> r.Explanation:
    facts = parts.plan.policy.facts
    tree = tr.condition_tree(gap.when, run.env, facts)
    truth, names = tr.support(gap.when, run.env)
    outcome: r.Outcome | str = {True: "relevant", False: "not_relevant", None: "undetermined"}[
        truth
    ]
    missing: set[str] = set()
    unresolved: set[str] = set()
    if truth is None:
        missing, unresolved = run.missing_behind(names)
    node_why = None
    if truth is False:
        node = tr.first_false(gap.when, run.env)
        node_why = r.WhyNot(
            reason="condition",
            condition=tr.expr_text(node, facts),
            line=node.span.line if node.span else None,
            column=node.span.column if node.span else None,
            reads=tuple(read(parts, run, n) for n in tr.reads(node)),
        )
    return r.Explanation(
        rule=gap.id,
        kind="gap",
        statement=gap.note,
        section=gap.section,
        evidence=(),
        outcome=outcome,  # type: ignore[arg-type]
        condition=_step(tree, parts, run),
        after=(),
        overridden_by=(),
        because=tuple(reason(parts, run, n) for n in names) if truth is True else (),
        chain=(),
        missing=tuple(sorted(missing)),
        unresolved=tuple(sorted(unresolved)),
        why_not=node_why,
    )
