"""Logic checks on a resolved draft: cycles, conditions that can never hold, conflicting
derivations, rules that can never fire, and unused declarations.

Input: a `Draft` from the resolver. Output: diagnostics. Satisfiability is first tried by the
bounded search of `leukorules.check.search` (representative domains, unknown included). A
patient the search finds is real; where it finds none, gives up, or cannot be exact (two facts
compared; derived facts, `overrides` and constraints in a conflict), the solver of
`leukorules.prove` decides (`ExactAnalysis`), and rules that can never fire (LR420) are found;
with the solver the search is only a first look, on a small budget. Without the solver (the
`prove` extra) the search's answers stand, a give-up of its full budget is reported (LR413),
rules that never fire are not looked for, and one note (LR421) says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

import yaml

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.resolve import Draft
from leukorules.check.search import (
    FIRST_LOOK_BUDGET,
    QUICK_BUDGET,
    SEARCH_BUDGET,
    SearchTooLarge,
    has_fact_comparison,
    satisfying_assignment,
)
from leukorules.diagnostics import Diagnostic, Related, has_errors
from leukorules.prove.questions import ExactAnalysis
from leukorules.prove.reference import outcomes, refused
from leukorules.prove.scenario import plain
from leukorules.prove.solver import SolverMissing
from leukorules.rulegraph import (
    GraphNode,
    PolicyGraph,
    PolicyGraphError,
    dependency_edges,
    dependency_walk,
)


def analyse(draft: Draft, solver: bool = True) -> list[Diagnostic]:
    """Every logic diagnostic of a draft; with `solver` False (or the `prove` extra missing)
    only the bounded search decides satisfiability."""
    diagnostics: list[Diagnostic] = []
    exact: ExactAnalysis | None = None
    if solver:
        try:
            exact = ExactAnalysis(draft)
        except SolverMissing:
            diagnostics.append(msg.BOUNDED_SEARCH.at(None))
    budget = SEARCH_BUDGET if exact is None else FIRST_LOOK_BUDGET
    rules = {r.id: r for r in draft.rules}
    diagnostics.extend(_gap_and_after_targets(draft, rules))
    cyclic = _cycles(draft, diagnostics)
    witnesses: dict[str, dict[str, object] | None] = {}
    diagnostics.extend(_never_true(draft, exact, witnesses, budget))
    graph = None if cyclic else _graph(draft)
    if not cyclic:
        checker = _ConflictCheck(draft, graph, exact, budget)
        diagnostics.extend(_conflicts(draft, rules, checker))
    if exact is not None and graph is not None and not has_errors(diagnostics):
        diagnostics.extend(_never_fire(draft, rules, graph, exact, witnesses))
    diagnostics.extend(_unused(draft))
    diagnostics.extend(_constraints(draft, exact, budget))
    if not cyclic:
        diagnostics.extend(_stated_lines(draft, rules))
    return diagnostics


def _graph(draft: Draft) -> PolicyGraph | None:
    """The rule graph, for rules without errors that form one (else None)."""
    if draft.broken_rules:
        return None
    try:
        return PolicyGraph.build(draft.rules, draft.facts)
    except PolicyGraphError:
        return None


def _gap_and_after_targets(draft: Draft, rules: Mapping[str, m.Rule]) -> Iterable[Diagnostic]:
    gaps = {g.id for g in draft.gaps}
    for rule in draft.rules:
        for target in (*rule.after, *rule.overrides):
            if target in gaps:
                yield msg.GAP_AS_RULE_TARGET.at(rule.span, target=target)
        for target in rule.overrides:
            other = rules.get(target)
            if other is not None and rule.id in other.overrides and _mutual_reporter(rule, other):
                related = [Related(other.span, "the other rule")] if other.span else []
                yield msg.MUTUAL_OVERRIDES.at(
                    rule.span, first=rule.id, second=target, related=related
                )


def _mutual_reporter(rule: m.Rule, other: m.Rule) -> bool:
    """Of two rules that override each other, the one that reports it: the smaller id."""
    return rule.id < other.id


def _cycles(draft: Draft, diagnostics: list[Diagnostic]) -> bool:
    """Rules and derived facts must form a DAG (`leukorules.rulegraph` relies on it);
    reports each cycle once."""
    rules = draft.rules
    _, derivers, _, edges = dependency_edges(rules, draft.facts)

    def depends(node: GraphNode) -> list[GraphNode]:
        return list(derivers[node]) if isinstance(node, str) else edges[node]

    _, cycles = dependency_walk([*range(len(rules)), *derivers], depends)
    for cycle in cycles:
        shown = " -> ".join(rules[n].id if isinstance(n, int) else n for n in cycle)
        first_rule = next((n for n in cycle if isinstance(n, int)), None)
        diagnostics.append(
            msg.CYCLE.at(rules[first_rule].span if first_rule is not None else None, path=shown)
        )
    return bool(cycles)


def _never_true(
    draft: Draft,
    exact: ExactAnalysis | None,
    witnesses: dict[str, dict[str, object] | None],
    budget: int,
) -> Iterable[Diagnostic]:
    """LR404. `witnesses` gets, for each rule, a patient the search found for its condition
    (None: none found), which `_never_fire` reuses."""
    items: Sequence[m.Rule | m.Gap] = [*draft.rules, *draft.gaps]
    for item in items:
        if isinstance(item.when, m.Const) and item.when.value:
            if isinstance(item, m.Rule):
                witnesses[item.id] = {}
            continue
        found: dict[str, object] | None = None
        settled = False  # the search's answer is exact
        if not has_fact_comparison(item.when):
            # representative domains are exact unless two facts are compared
            try:
                found = satisfying_assignment(item.when, draft.facts, budget)
                settled = True
            except SearchTooLarge:
                pass
        if isinstance(item, m.Rule):
            witnesses[item.id] = found
        if found is not None:
            continue
        if exact is not None:
            possible = exact.condition_possible(item.when)
        elif settled:
            possible = False
        else:
            continue  # not decided without the solver
        if not possible:
            kind = "gap" if isinstance(item, m.Gap) else "rule"
            yield msg.NEVER_TRUE.at(item.when.span or item.span, kind=kind, id=item.id)


def _effective_condition(rule: m.Rule, rules: Mapping[str, m.Rule], depth: int = 0) -> m.Expr:
    """The rule's condition conjoined with those of the rules it comes `after`."""
    parts: list[m.Expr] = [rule.when]
    if depth < 16:
        for previous in rule.after:
            if previous in rules:
                parts.append(_effective_condition(rules[previous], rules, depth + 1))
    return parts[0] if len(parts) == 1 else m.And(tuple(parts))


def _precedence(rules: Mapping[str, m.Rule]) -> set[tuple[str, str]]:
    """(winner, loser) pairs of the transitive `overrides` relation.

    A search from every rule that overrides something, so the cost is the size of the result
    (not, as a fixed-point iteration over pairs would be, its square).
    """
    beats: dict[str, list[str]] = {}
    for rule in rules.values():
        if rule.overrides:
            beats.setdefault(rule.id, []).extend(rule.overrides)
    closure: set[tuple[str, str]] = set()
    for winner, losers in beats.items():
        reached: set[str] = set()
        pending = list(losers)
        while pending:
            loser = pending.pop()
            if loser in reached:
                continue
            reached.add(loser)
            closure.add((winner, loser))
            pending.extend(beats.get(loser, ()))
    return closure


def scenario_yaml(name: str, facts: Mapping[str, object], fired: Sequence[str]) -> str:
    document = [
        {
            "name": name,
            "facts": {k: plain(v) for k, v in sorted(facts.items())},
            "expect": {"fired": list(fired)},
        }
    ]
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False).rstrip("\n")


def _conflicts(
    draft: Draft, rules: Mapping[str, m.Rule], checker: _ConflictCheck
) -> Iterable[Diagnostic]:
    precedence = _precedence(rules)
    effective: dict[str, m.Expr] = {}

    def effective_condition(rule: m.Rule) -> m.Expr:
        if rule.id not in effective:
            effective[rule.id] = _effective_condition(rule, rules)
        return effective[rule.id]

    by_fact: dict[str, list[m.Rule]] = {}
    for rule in draft.rules:
        if isinstance(rule.conclusion, m.Derive):
            by_fact.setdefault(rule.conclusion.fact, []).append(rule)
    for fact_name, derivers in by_fact.items():
        for first, second in combinations(derivers, 2):
            assert isinstance(first.conclusion, m.Derive)
            assert isinstance(second.conclusion, m.Derive)
            if first.conclusion.value == second.conclusion.value:
                continue
            if (first.id, second.id) in precedence or (second.id, first.id) in precedence:
                continue
            both = m.And((effective_condition(first), effective_condition(second)))
            try:
                example = checker.example(first, second, both)
            except SearchTooLarge:
                yield msg.CONFLICT_CHECK_GAVE_UP.at(second.span, first=first.id, second=second.id)
                continue
            if example is None:
                continue
            derived_inputs = [n for n in example if draft.facts[n].derived]
            scenario = scenario_yaml(
                f"{first.id} and {second.id} both derive {fact_name}",
                example,
                [first.id, second.id],
            )
            note = ""
            if derived_inputs:
                note = (
                    "\n(the example sets derived facts "
                    + ", ".join(derived_inputs)
                    + " directly; reach them through their rules)"
                )
            yield msg.CONFLICTING_DERIVATIONS.at(
                second.span,
                first=first.id,
                second=second.id,
                fact=fact_name,
                first_value=_show(first.conclusion.value),
                second_value=_show(second.conclusion.value),
                scenario=scenario + note,
                related=[Related(first.span, f"`{first.id}` is declared here")]
                if first.span
                else [],
            )


class _ConflictCheck:
    """Whether two rules can both fire, and for which patient.

    The search treats derived facts as free values and looks at the two rules' conditions
    (with those of the rules they come `after`) only, so a patient it finds is checked against
    the full semantics (derived facts through their rules, every `overrides`, constraints); the
    solver decides whatever the search cannot. Without the solver, the search's answer stands
    (it may then set derived facts, and a give-up raises SearchTooLarge)."""

    def __init__(
        self,
        draft: Draft,
        graph: PolicyGraph | None,
        exact: ExactAnalysis | None,
        budget: int,
    ) -> None:
        self.draft = draft
        self.budget = budget
        self.graph = graph
        self.exact = exact if graph is not None else None

    def example(self, first: m.Rule, second: m.Rule, both: m.Expr) -> dict[str, object] | None:
        inexact = has_fact_comparison(both)
        try:
            found = satisfying_assignment(both, self.draft.facts, self.budget)
        except SearchTooLarge:
            if self.exact is None:
                raise
            return _patient(self.exact.both_fire(first.id, second.id))
        if self.exact is None or (found is None and not inexact):
            return found
        if found is not None and self._both_fire(first, second, found):
            return found
        return _patient(self.exact.both_fire(first.id, second.id))

    def _both_fire(self, first: m.Rule, second: m.Rule, patient: dict[str, object]) -> bool:
        draft = self.draft
        assert self.graph is not None
        if any(draft.facts[n].derived for n in patient) or refused(draft.constraints, patient):
            return False
        index = self.graph.index
        found = outcomes(self.graph, draft.rules, patient, [index[first.id], index[second.id]])
        return found.fired(index[first.id]) and found.fired(index[second.id])


def _patient(found: Mapping[str, m.Value] | None) -> dict[str, object] | None:
    return None if found is None else dict(found)


class _Inlined:
    """A rule's condition with what it depends on written in: the conditions of the rules it
    comes `after`, the negated conditions of the rules overriding it, and for a test of a
    derived fact the condition of a rule deriving a value it accepts. A patient for whom this is
    true is a likely (not a certain) patient for whom the rule fires: the candidate the search
    looks for before the solver is asked."""

    def __init__(self, draft: Draft, rules: Mapping[str, m.Rule], graph: PolicyGraph) -> None:
        self.rules = rules
        # the rules overriding each rule: a candidate makes their conditions false
        self.winners = {
            draft.rules[i].id: [draft.rules[o] for o in found]
            for i, found in graph.overridden_by.items()
        }
        self.by_value: dict[str, dict[object, list[m.Rule]]] = {}
        for name, derivers in graph.derivers.items():
            values = self.by_value.setdefault(name, {})
            for index in derivers:
                deriver = draft.rules[index]
                assert isinstance(deriver.conclusion, m.Derive)
                values.setdefault(deriver.conclusion.value, []).append(deriver)
        self._done: dict[str, m.Expr] = {}

    def condition(self, rule: m.Rule, depth: int = 0) -> m.Expr:
        if rule.id in self._done:
            return self._done[rule.id]
        parts = [self.expr(rule.when, depth)]
        if depth < 8:
            parts += [
                self.condition(self.rules[a], depth + 1) for a in rule.after if a in self.rules
            ]
            parts += [m.Not(w.when) for w in self.winners.get(rule.id, ())]
        found = parts[0] if len(parts) == 1 else m.And(tuple(parts))
        self._done[rule.id] = found
        return found

    def expr(self, expr: m.Expr, depth: int) -> m.Expr:
        match expr:
            case m.And(items=items):
                return m.And(tuple(self.expr(i, depth) for i in items))
            case m.Or(items=items):
                return m.Or(tuple(self.expr(i, depth) for i in items))
            case m.Compare(fact=name, op="==", value=value) if name in self.by_value:
                return self._deriving(name, [value], depth)
            case m.Member(fact=name, values=values, negated=False) if name in self.by_value:
                return self._deriving(name, values, depth)
            case m.Known(fact=name, known=True) if name in self.by_value:
                return self._deriving(name, list(self.by_value[name]), depth)
        return expr

    def _deriving(self, name: str, values: Sequence[object], depth: int) -> m.Expr:
        """The condition of one rule deriving one of `values`: the one fewest rules override
        (a conjunction the search settles quickly, where an `or` of them all may not be)."""
        derivers = [r for v in values for r in self.by_value[name].get(v, ())]
        if depth >= 8 or not derivers:
            return m.Const(False)
        chosen = min(derivers, key=lambda r: len(self.winners.get(r.id, ())))
        return self.condition(chosen, depth + 1)


def _never_fire(
    draft: Draft,
    rules: Mapping[str, m.Rule],
    graph: PolicyGraph,
    exact: ExactAnalysis,
    witnesses: Mapping[str, dict[str, object] | None],
) -> Iterable[Diagnostic]:
    """LR420: rules no admissible patient makes fire. A rule is confirmed quickly when a
    patient the search finds for its condition (and those of the rules it comes after) makes it
    fire; the solver finds patients for the others, many rules at a time, and what it cannot
    make fire never fires."""
    inputs = {n: f for n, f in draft.facts.items() if not f.derived}
    inlined = _Inlined(draft, rules, graph)
    open_rules: list[str] = []
    for i in graph.rules_in_order():
        rule = draft.rules[i]
        patient = witnesses.get(rule.id)
        reads_derived = any(n in graph.derivers for n in m.expr_facts(rule.when))
        if rule.after or reads_derived:
            candidate = inlined.condition(rule)
            try:
                patient = satisfying_assignment(candidate, inputs, QUICK_BUDGET)
            except SearchTooLarge:
                patient = None
        if (
            patient is not None
            and not refused(draft.constraints, patient)
            and outcomes(graph, draft.rules, patient, [i]).fired(i)
        ):
            continue
        open_rules.append(rule.id)
    if not open_rules:
        return
    fireable = exact.fireable(open_rules)
    never: list[str] = []
    for rule_id in open_rules:  # in dependency order: a rule after the ones it follows
        if rule_id in fireable:
            continue
        never.append(rule_id)
        rule = rules[rule_id]
        if witnesses.get(rule_id) is None and not exact.condition_possible(rule.when):
            continue  # its condition can never be true: LR404 says so already
        reason = exact.why_never(rule_id, never)
        yield msg.NEVER_FIRES.at(rule.span, id=rule_id, reason=reason)


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unused(draft: Draft) -> Iterable[Diagnostic]:
    for fact in draft.facts.values():
        if fact.name not in draft.fact_uses:
            if fact.derived:
                continue
            yield msg.FACT_UNUSED.at(fact.span, name=fact.name)
    derived_targets = {r.conclusion.fact for r in draft.rules if isinstance(r.conclusion, m.Derive)}
    for fact in draft.facts.values():
        if fact.derived and fact.name not in derived_targets:
            yield msg.DERIVED_NEVER_DERIVED.at(fact.span, name=fact.name)
    for evidence in draft.evidence.values():
        if evidence.id not in draft.evidence_uses:
            yield msg.EVIDENCE_UNUSED.at(evidence.span, id=evidence.id)
        if not evidence.citation_declared:
            yield msg.EVIDENCE_WITHOUT_CITATION.at(evidence.span, id=evidence.id)
    # A gap under a heading that has statements is a gap in its topic, not an empty heading.
    sections_with_rules = {r.section for r in draft.rules}
    for gap in draft.gaps:
        heading = gap.section[-1] if gap.section else "(top level)"
        if gap.section in sections_with_rules:
            note = gap.note or "the guideline says nothing about it"
            yield msg.GAP_TOPIC.at(gap.span, id=gap.id, heading=heading, note=note)
        else:
            yield msg.GAP_EMPTY_HEADING.at(gap.span, id=gap.id, heading=heading)


def _stated_lines(draft: Draft, rules: Mapping[str, m.Rule]) -> Iterable[Diagnostic]:
    """A stated line of therapy (`line N`) must come after the lines the rule follows."""
    line: dict[str, int] = {}

    def line_of(rule_id: str) -> int:  # the rules form a DAG here: the recursion ends
        if rule_id not in line:
            rule = rules[rule_id]
            after = [p for p in rule.after if p in rules]
            computed = 1 + max((line_of(p) for p in after), default=0)
            line[rule_id] = rule.line if rule.line is not None else computed
        return line[rule_id]

    for rule in draft.rules:
        if rule.line is None:
            continue
        for previous in rule.after:
            if previous in rules and line_of(previous) >= rule.line:
                yield msg.LINE_BEFORE_ITS_PREDECESSOR.at(
                    rule.span,
                    rule=rule.id,
                    line=rule.line,
                    after=previous,
                    after_line=line_of(previous),
                )


def _constraints(draft: Draft, exact: ExactAnalysis | None, budget: int) -> Iterable[Diagnostic]:
    """A constraint that never applies, can never be broken, or can never be met."""

    def possible(expr: m.Expr) -> bool | None:
        """Whether some facts make `expr` true; None when that cannot be decided."""
        try:
            if satisfying_assignment(expr, draft.facts, budget) is not None:
                return True
            settled = not has_fact_comparison(expr)
        except SearchTooLarge:
            settled = False
        if exact is not None:
            return exact.condition_possible(expr)
        return False if settled else None

    for constraint in draft.constraints:
        when, require = constraint.when, constraint.require
        applies = possible(when)
        if applies is None:
            continue
        if not applies:
            yield msg.CONSTRAINT_NEVER_APPLIES.at(when.span or constraint.span, id=constraint.id)
            continue
        broken = possible(m.And((when, m.Not(require))))
        if broken is None:
            continue
        if not broken:
            yield msg.CONSTRAINT_NEVER_BROKEN.at(constraint.span, id=constraint.id)
            continue
        forbidding = isinstance(require, m.Const) and not require.value
        if not forbidding and possible(m.And((when, require))) is False:
            yield msg.CONSTRAINT_NEVER_MET.at(constraint.span, id=constraint.id)
