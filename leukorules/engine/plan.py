"""Checked policy -> the plan of its compiled evaluator: every table that does not depend on the
patient, worked out once per policy.

Input: a checked `Policy` and its `PolicyGraph` (the checker guarantees resolved names,
well-typed comparisons and a DAG). Output: a `Plan`, read by the code generator
(`leukorules.engine.codegen`), the runtime (`leukorules.engine.runtime`) and the result
builder (`leukorules.engine.build`). Nothing here runs per patient.

What the plan decides:
- the order of results: recommendations by section, then line of therapy, then guideline order;
  notes, and every rule, by section, then guideline order. A section ranks where its first rule
  stands, so each section's entries are contiguous (a report prints each heading once);
- where the facts deciding a condition (`because` of a fired rule, `missing` of an undetermined
  one) are the same for every patient, and where the generated code computes them
  (`leukorules.engine.supports`); the other rules walk their condition (`supports`, below);
- where a fired rule's `chain` is the same for every patient: when neither the rule nor any rule
  it follows reads a derived fact, it is the closure of its `after` rules;
- which rules can never be undetermined, and what `decide` must compute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from leukorules import model as m
from leukorules.engine import trace as tr
from leukorules.engine.supports import compiled_support, static_support
from leukorules.logic import Truth
from leukorules.rulegraph import PolicyGraph

Names = tuple[str, ...]
NON_DERIVE = frozenset({"recommend", "note", "caution", "background"})
# Distinct patients remembered per rule by `memoised` (a few hundred kilobytes at most).
MEMO_SIZE = 512


def can_be_unknown(expr: m.Expr) -> bool:
    """Whether a condition can be unknown: only a test of a fact's value can be (a constant
    and `is known`/`is unknown` are always decided). Iterative: conditions nest deeply."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, m.And | m.Or):
            stack.extend(node.items)
        elif isinstance(node, m.Not):
            stack.append(node.item)
        elif not isinstance(node, m.Const | m.Known):
            return True
    return False


@dataclass(frozen=True)
class Plan:
    """What evaluating the policy needs that does not depend on the patient."""

    policy: m.Policy
    graph: PolicyGraph
    rules: tuple[m.Rule, ...]
    rule_ids: tuple[str, ...]
    gap_ids: tuple[str, ...]
    input_names: Names
    derived_names: Names
    # rule index -> its place in `graph.order` (upstream first): chains are listed in it
    position: Mapping[int, int]
    # result order of the fired recommendations, of the fired notes, and of every rule
    recommend_order: tuple[int, ...]
    note_order: tuple[int, ...]
    every_order: tuple[int, ...]
    never_unknown: frozenset[int]
    # the rules whose condition's supports the generated code computes (`compiled_support`)
    generated_supports: frozenset[int]
    # per rule: the facts that made it fire, when that is the same for every patient
    static_because: tuple[Names | None, ...]
    # per rule: its chain when fired, when that is the same for every patient
    static_chains: tuple[Names | None, ...]
    # per rule: (because, chain) when both are the same for every patient
    static_explained: tuple[tuple[Names, Names] | None, ...]
    # undetermined rules whose whole `missing` the generated code computes
    missing_generated: frozenset[int]
    # what `decide` computes: the reported rules and everything they depend on
    # per rule: its condition's walker (`trace.support`, specialised and memoised)
    supports: tuple[tr.Support, ...]
    # per gap: the same for its condition
    gap_supports: tuple[tr.Support, ...]

    def reads_derived(self, i: int) -> bool:
        return bool(self.graph.reads_derived[i])


def plan_policy(policy: m.Policy) -> Plan:
    graph = PolicyGraph.of(policy)
    rules = policy.rules
    generated = frozenset(i for i, rule in enumerate(rules) if compiled_support(rule.when))
    static_because = tuple(
        static_support(rule.when, True) if i in generated else None for i, rule in enumerate(rules)
    )
    chains = _static_chains(graph)
    recommend, notes, every = _result_orders(policy, graph.line)
    return Plan(
        policy=policy,
        graph=graph,
        rules=rules,
        rule_ids=graph.rule_ids,
        gap_ids=tuple(gap.id for gap in policy.gaps),
        input_names=tuple(f.name for f in policy.facts.values() if not f.derived),
        derived_names=tuple(f.name for f in policy.facts.values() if f.derived),
        position={node: p for p, node in enumerate(graph.order) if isinstance(node, int)},
        recommend_order=recommend,
        note_order=notes,
        every_order=every,
        never_unknown=graph.closed_upstream(lambda i: not can_be_unknown(rules[i].when)),
        generated_supports=generated,
        static_because=static_because,
        static_chains=chains,
        static_explained=tuple(
            None if because is None or chain is None else (because, chain)
            for because, chain in zip(static_because, chains, strict=True)
        ),
        missing_generated=graph.closed_upstream(
            lambda i: i in generated and not graph.reads_derived[i]
        ),
        supports=tuple(
            memoised(tr.compile_support(rule.when), tr.reads(rule.when)) for rule in rules
        ),
        gap_supports=tuple(
            memoised(tr.compile_support(gap.when), tr.reads(gap.when)) for gap in policy.gaps
        ),
    )


def _result_orders(
    policy: m.Policy, line: Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    rules = policy.rules
    section_rank: dict[tuple[str, ...], int] = {}
    for i, rule in enumerate(rules):
        section_rank.setdefault(rule.section, i)
    section = [section_rank[rule.section] for rule in rules]
    recommend = [i for i, rule in enumerate(rules) if isinstance(rule.conclusion, m.Recommend)]
    notes = [i for i, rule in enumerate(rules) if isinstance(rule.conclusion, m.StateNote)]
    return (
        tuple(sorted(recommend, key=lambda i: (section[i], line[i], i))),
        tuple(sorted(notes, key=lambda i: (section[i], i))),
        tuple(sorted(range(len(rules)), key=lambda i: (section[i], i))),
    )


def _static_chains(graph: PolicyGraph) -> tuple[Names | None, ...]:
    """Per rule, its chain when it cannot depend on the patient (None otherwise).

    A fired rule's chain is its `after` rules and the derivations of the derived facts in its
    `because`, transitively. When neither the rule nor any rule it follows (transitively) reads
    a derived fact, that is the `after` closure alone, the same for every patient."""
    position = {node: p for p, node in enumerate(graph.order) if isinstance(node, int)}
    chains: list[Names | None] = []
    for i in range(len(graph.rule_ids)):
        closure = graph.after_closure(i)
        if graph.reads_derived[i] or any(graph.reads_derived[j] for j in closure):
            chains.append(None)
            continue
        chains.append(tuple(graph.rule_ids[j] for j in sorted(closure, key=position.__getitem__)))
    return tuple(chains)


def memoised(support: tr.Support, names: Names) -> tr.Support:
    """`support` remembering its answer per combination of the values of the facts it reads:
    the answer depends on nothing else (equal values compare alike). Real patients repeat the
    same few combinations of booleans and enum values; past `MEMO_SIZE` combinations (numbers
    of every size) new ones are computed and not kept. Unhashable values are computed."""
    cache: dict[tuple[object, ...], tuple[Truth, Names]] = {}
    if not names:
        return support

    def memo(env: Mapping[str, object]) -> tuple[Truth, Names]:
        key = tuple(map(env.get, names))
        try:
            return cache[key]
        except KeyError:
            found = support(env)
            if len(cache) < MEMO_SIZE:
                cache[key] = found
            return found
        except TypeError:
            return support(env)

    return memo


def sorted_by_position(plan: Plan, rules: Iterable[int]) -> list[str]:
    """Rule ids in the graph's order, upstream first (how chains are listed)."""
    return [plan.rule_ids[j] for j in sorted(rules, key=plan.position.__getitem__)]
