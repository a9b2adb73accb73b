"""The rule graph: what each rule's outcome depends on, built from the checked model.

Input: the rules and facts of a `model.Policy` (or of the checker's draft, to find cycles before a
policy exists). Output: `PolicyGraph` (`PolicyGraph.of(policy)`): the rules named by their index
in guideline order, the rules deriving each fact, `after` and `overrides` edges, a topological
order and each rule's line of therapy. Every stage after the checker (the compiled evaluator, the
cohort SQL) reads this graph instead of building its own; the checker finds cycles with
`dependency_walk` (LR403).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from leukorules.model import Derive, Fact, Policy, Rule, expr_facts

# A node of the rule graph: a rule (its index in guideline order) or a derived fact (its name).
GraphNode: TypeAlias = int | str


class PolicyGraphError(ValueError):
    """Rules that do not form a DAG or name rules that do not exist (only possible for models
    built by hand: the checker reports these as LR403 and LR203)."""


def dependency_edges(
    rules: Sequence[Rule], facts: Mapping[str, Fact]
) -> tuple[dict[str, int], dict[str, list[int]], dict[int, list[int]], list[list[GraphNode]]]:
    """(rule index, derive rules per derived fact, overriding rules per rule, what each node
    depends on). Rule i depends on the derived facts its condition reads (first read first),
    the rules it comes `after`, then the rules overriding it; a derived fact depends on the
    rules deriving it. Two rules that override each other are left out of each other's edges:
    that is a precedence error (LR410), reported on its own. Unknown rule names are skipped."""
    index: dict[str, int] = {}
    for i, rule in enumerate(rules):
        index.setdefault(rule.id, i)
    derivers: dict[str, list[int]] = {f.name: [] for f in facts.values() if f.derived}
    overridden_by: dict[int, list[int]] = {}
    for i, rule in enumerate(rules):
        if isinstance(rule.conclusion, Derive) and rule.conclusion.fact in derivers:
            derivers[rule.conclusion.fact].append(i)
        for target in rule.overrides:
            j = index.get(target)
            if j is not None and rule.id not in rules[j].overrides:
                overridden_by.setdefault(j, []).append(i)
    edges: list[list[GraphNode]] = []
    for i, rule in enumerate(rules):
        node_edges: list[GraphNode] = [
            n for n in dict.fromkeys(expr_facts(rule.when)) if n in derivers
        ]
        node_edges.extend(index[p] for p in rule.after if p in index)
        node_edges.extend(overridden_by.get(i, ()))
        edges.append(node_edges)
    return index, derivers, overridden_by, edges


def dependency_walk(
    roots: Iterable[GraphNode], depends: Callable[[GraphNode], Sequence[GraphNode]]
) -> tuple[list[GraphNode], list[list[GraphNode]]]:
    """Depth-first post-order from `roots` (upstream first, deterministic), and every cycle met
    on the way (each as the path from its first node back to it). Iterative: policies can
    chain thousands of rules."""
    order: list[GraphNode] = []
    cycles: list[list[GraphNode]] = []
    state: dict[GraphNode, int] = {}  # 1 = on the current path, 2 = done
    for root in roots:
        if state.get(root):
            continue
        path: list[GraphNode] = [root]
        state[root] = 1
        stack: list[tuple[GraphNode, int]] = [(root, 0)]
        while stack:
            node, child = stack.pop()
            children = depends(node)
            if child < len(children):
                stack.append((node, child + 1))
                nxt = children[child]
                seen = state.get(nxt, 0)
                if seen == 1:
                    cycles.append([*path[path.index(nxt) :], nxt])
                elif seen == 0:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
                order.append(node)
    return order, cycles


@dataclass(frozen=True, slots=True)
class PolicyGraph:
    """What each rule's outcome depends on, for every stage after the checker.

    Rules are named by their index in `Policy.rules` (guideline order). `order` holds every
    rule and derived fact, each after everything it depends on. `line` is each rule's line of
    therapy: the line it states (`line 3`), else 1, or 1 + the highest line of the rules it comes
    `after`.
    """

    rule_ids: tuple[str, ...]
    index: Mapping[str, int]
    derivers: Mapping[str, tuple[int, ...]]
    after: tuple[tuple[int, ...], ...]
    overridden_by: Mapping[int, tuple[int, ...]]
    reads_derived: tuple[tuple[str, ...], ...]
    order: tuple[GraphNode, ...]
    line: tuple[int, ...]

    @staticmethod
    def of(policy: Policy) -> PolicyGraph:
        """The graph of a checked policy's rules and derived facts."""
        return PolicyGraph.build(policy.rules, policy.facts)

    @staticmethod
    def build(rules: Sequence[Rule], facts: Mapping[str, Fact]) -> PolicyGraph:
        index, derivers, overridden_by, edges = dependency_edges(rules, facts)
        if len(index) != len(rules):
            raise PolicyGraphError("two rules have the same id")
        for rule in rules:
            if isinstance(rule.conclusion, Derive) and rule.conclusion.fact not in derivers:
                raise PolicyGraphError(f"rule {rule.id!r} derives an undeclared derived fact")
            for target in (*rule.after, *rule.overrides):
                if target not in index:
                    raise PolicyGraphError(f"rule {rule.id!r} names an unknown rule {target!r}")
            for target in rule.overrides:
                if rule.id in rules[index[target]].overrides:
                    raise PolicyGraphError(f"{rule.id!r} and {target!r} override each other")

        def depends(node: GraphNode) -> Sequence[GraphNode]:
            return derivers[node] if isinstance(node, str) else edges[node]

        roots: list[GraphNode] = [*range(len(rules)), *derivers]
        order, cycles = dependency_walk(roots, depends)
        if cycles:
            raise PolicyGraphError("rules and derived facts form a cycle")
        after = tuple(tuple(index[p] for p in rule.after) for rule in rules)
        line = [1] * len(rules)
        for node in order:
            if not isinstance(node, int):
                continue
            stated = rules[node].line
            if stated is not None:
                line[node] = stated
            elif after[node]:
                line[node] = 1 + max(line[p] for p in after[node])
        return PolicyGraph(
            rule_ids=tuple(rule.id for rule in rules),
            index=index,
            derivers={name: tuple(found) for name, found in derivers.items()},
            after=after,
            overridden_by={i: tuple(found) for i, found in overridden_by.items()},
            reads_derived=tuple(tuple(n for n in edge if isinstance(n, str)) for edge in edges),
            order=tuple(order),
            line=tuple(line),
        )

    def depends_on(self, node: GraphNode) -> tuple[GraphNode, ...]:
        """What a node depends on directly (see `dependency_edges`)."""
        if isinstance(node, str):
            return self.derivers[node]
        return (*self.reads_derived[node], *self.after[node], *self.overridden_by.get(node, ()))

    def upstream(self, i: int) -> tuple[int, ...]:
        """The rules whose outcome rule i's outcome reads directly: those it comes `after`,
        then those overriding it."""
        return (*self.after[i], *self.overridden_by.get(i, ()))

    def rules_in_order(self) -> Iterator[int]:
        """Every rule, each after the rules it depends on."""
        return (node for node in self.order if isinstance(node, int))

    def closed_upstream(self, holds: Callable[[int], bool]) -> frozenset[int]:
        """The rules for which `holds` is true, and for every rule upstream of them
        (`upstream`), transitively."""
        found: set[int] = set()
        for i in self.rules_in_order():
            if holds(i) and all(j in found for j in self.upstream(i)):
                found.add(i)
        return frozenset(found)

    def reachable(self, roots: Iterable[GraphNode]) -> set[GraphNode]:
        """`roots` and everything they depend on, transitively."""
        stack = list(roots)
        found: set[GraphNode] = set()
        while stack:
            node = stack.pop()
            if node not in found:
                found.add(node)
                stack.extend(self.depends_on(node))
        return found

    def after_closure(self, i: int) -> set[int]:
        """The rules rule i comes after, transitively."""
        found: set[int] = set()
        stack = list(self.after[i])
        while stack:
            j = stack.pop()
            if j not in found:
                found.add(j)
                stack.extend(self.after[j])
        return found

    def levels(self) -> dict[GraphNode, int]:
        """Each node's depth: 0 for a node that depends on nothing, else 1 + the deepest of
        what it depends on (nodes of one level can be computed side by side)."""
        level: dict[GraphNode, int] = {}
        for node in self.order:
            below = [level[n] for n in self.depends_on(node)]
            level[node] = 1 + max(below) if below else 0
        return level
