"""One rule (or gap), explained step by step for one patient.

Input: a `Run` of the compiled core and a rule or gap id. Output: an `Explanation`: the outcome,
every sub-condition with its truth and the values it read (derived values name the rule that
derived them through `because`/`chain`), the `after` and `overrides` rules with their outcomes,
and, as the outcome asks: the facts it fired on and its upstream chain, the first false
sub-condition, or the unknown facts that would decide it.
"""

from __future__ import annotations

from leukorules import model as m
from leukorules.engine import result as r
from leukorules.engine import trace as tr
from leukorules.engine.compile import CompiledPolicy, Run
from leukorules.engine.evaluation import read, reasons, why_not

_TRUTH: dict[bool | None, str] = {True: "true", False: "false", None: "unknown"}


class UnknownRule(KeyError):
    """The id names no rule and no gap of the policy."""


def _step(node: tr.ConditionNode, run: Run) -> r.ConditionStep:
    return r.ConditionStep(
        text=node.text,
        kind=node.kind,
        truth=_TRUTH[node.truth],  # type: ignore[arg-type]
        line=node.span.line if node.span else None,
        column=node.span.column if node.span else None,
        reads=[read(run, name) for name, _ in node.reads],
        children=[_step(child, run) for child in node.children],
    )


def explain(compiled: CompiledPolicy, run: Run, rule_id: str) -> r.Explanation:
    plan = compiled.plan
    policy = compiled.policy
    if rule_id not in plan.index:
        for gap in policy.gaps:
            if gap.id == rule_id:
                return _explain_gap(compiled, run, gap)
        raise UnknownRule(rule_id)
    i = plan.index[rule_id]
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
        derives = f"{conclusion.fact} = {tr._value_text(conclusion.value, fact)}"
    return r.Explanation(
        rule=rule.id,
        kind=rule.kind,  # type: ignore[arg-type]
        statement=rule.statement,
        section=list(rule.section),
        evidence=list(rule.evidence),
        outcome=outcome,
        condition=_step(tree, run),
        after=[r.Dependency(rule=p, outcome=run.outcome(plan.index[p])) for p in rule.after],
        overridden_by=[
            r.Dependency(rule=plan.rules[o].id, outcome=run.outcome(o))
            for o in plan.overridden_by.get(i, ())
        ],
        because=reasons(run, run.because(i)) if fired else [],
        chain=run.chain(i) if fired else [],
        missing=sorted(missing),
        unresolved=sorted(unresolved),
        why_not=why_not(run, i),
        derives=derives,
    )


def _explain_gap(compiled: CompiledPolicy, run: Run, gap: m.Gap) -> r.Explanation:
    tree = tr.condition_tree(gap.when, run.env, compiled.policy.facts)
    truth, names = tr.support(gap.when, run.env)
    outcome = {True: "relevant", False: "not_relevant", None: "undetermined"}[truth]
    missing: set[str] = set()
    unresolved: set[str] = set()
    if truth is None:
        missing, unresolved = run.missing_behind(names)
    node_why = None
    if truth is False:
        node = tr.first_false(gap.when, run.env)
        node_why = r.WhyNot(
            reason="condition",
            condition=tr.expr_text(node, compiled.policy.facts),
            line=node.span.line if node.span else None,
            column=node.span.column if node.span else None,
            reads=[read(run, n) for n in tr.reads(node)],
        )
    return r.Explanation(
        rule=gap.id,
        kind="gap",
        statement=gap.note,
        section=list(gap.section),
        evidence=[],
        outcome=outcome,  # type: ignore[arg-type]
        condition=_step(tree, run),
        after=[],
        overridden_by=[],
        because=reasons(run, names) if truth is True else [],
        chain=[],
        missing=sorted(missing),
        unresolved=sorted(unresolved),
        why_not=node_why,
    )
