"""The semantics of `leukorules.engine.runtime`, evaluated over the model for one patient.

Input: a policy's rules and facts (its `PolicyGraph`), a patient (input facts; absent is
unknown) and the rules of interest. Output: the base and effective truth of those rules and of
everything upstream of them, with the derived facts' values, straight from the definitions
(Kleene logic of `leukorules.logic`), and whether the patient breaks a constraint. The checker
uses it to confirm a candidate patient quickly, before asking the solver; it may not use the
compiled engine (the checker comes first in the pipeline), and the tests hold the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from leukorules import model as m
from leukorules.logic import Truth, evaluate, kleene_and, kleene_not, kleene_or
from leukorules.rulegraph import GraphNode, PolicyGraph


@dataclass
class Outcomes:
    """Truths of the rules evaluated (by index), and the facts as rules read them."""

    base: dict[int, Truth] = field(default_factory=dict)
    effective: dict[int, Truth] = field(default_factory=dict)
    values: dict[str, object] = field(default_factory=dict)

    def fired(self, i: int) -> bool:
        return self.effective.get(i) is True


def outcomes(
    graph: PolicyGraph,
    rules: Sequence[m.Rule],
    patient: Mapping[str, object],
    targets: Iterable[int] | None = None,
) -> Outcomes:
    """The truths of `targets` (every rule when None) and of their cone, for one patient."""
    nodes = list(graph.order) if targets is None else cone_order(graph, targets)
    found = Outcomes(values=dict(patient))
    for node in nodes:
        if isinstance(node, int):
            after = [found.effective[a] for a in graph.after[node]]
            base = kleene_and([evaluate(rules[node].when, found.values), *after])
            winners = kleene_or([found.effective[o] for o in graph.overridden_by.get(node, ())])
            found.base[node] = base
            found.effective[node] = kleene_and([base, kleene_not(winners)])
            continue
        found.values[node] = _derived_value(graph.derivers[node], rules, found.effective)
    return found


def cone_order(graph: PolicyGraph, targets: Iterable[GraphNode]) -> list[GraphNode]:
    """The targets and everything they depend on, each after what it depends on (a depth-first
    post-order: the cost is the cone's, not the policy's)."""
    order: list[GraphNode] = []
    done: set[GraphNode] = set()
    for target in targets:
        if target in done:
            continue
        done.add(target)
        stack: list[tuple[GraphNode, int]] = [(target, 0)]
        while stack:
            node, child = stack.pop()
            children = graph.depends_on(node)
            if child < len(children):
                stack.append((node, child + 1))
                nxt = children[child]
                if nxt not in done:
                    done.add(nxt)
                    stack.append((nxt, 0))
            else:
                order.append(node)
    return order


def _derived_value(
    derivers: Sequence[int], rules: Sequence[m.Rule], effective: Mapping[int, Truth]
) -> object:
    """v when a fired rule derives v and every rule deriving another value is false."""
    values: list[m.Value] = []
    for i in derivers:
        conclusion = rules[i].conclusion
        assert isinstance(conclusion, m.Derive)
        values.append(conclusion.value)
    for i, value in zip(derivers, values, strict=True):
        if effective[i] is True:
            others = [j for j, v in zip(derivers, values, strict=True) if v != value]
            return value if all(effective[j] is False for j in others) else None
    return None


def refused(constraints: Iterable[m.Constraint], patient: Mapping[str, object]) -> bool:
    """Whether the patient breaks a constraint (and is refused before any rule reads it)."""
    return any(
        evaluate(c.when, patient) is True and evaluate(c.require, patient) is False
        for c in constraints
    )
