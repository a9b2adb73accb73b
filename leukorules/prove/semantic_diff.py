"""What two versions of a policy decide differently, patient by patient, proven.

Input: two checked policies, OLD and NEW. Output: `SemanticDiff`: for each rule whose outcome can
differ, the transitions (OLD outcome -> NEW outcome; `absent` for a rule one version lacks),
each with the patients it happens to, described as conditions (cubes of
`leukorules.prove.cubes`: each a condition over the facts, together exactly the patients),
counted, and with one example patient; and the patients one version refuses and the other
evaluates.

The patient space: both versions' input facts over shared solver variables (a fact declared by
both with the same kind is one fact, its enum values or set elements the union of both; a fact
only one version declares is ignored by the other), each fact cut into the classes of
`leukorules.prove.space` by the constants either version compares it with. Per-rule changes are
over the patients both versions admit (declarations and constraints); `total` counts the class
combinations both versions' declarations admit. Counts are exact when `exact` (no condition
compares two numeric, date or string facts); a rule whose upstream rules, derived facts and
facts read are the same in both versions cannot change and is not asked about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

from leukorules import model as m
from leukorules.prove.cubes import Cover, Cube, Space, cover
from leukorules.prove.domains import FactVar, StringPool, Term, fact_var, string_literals
from leukorules.prove.encoding import PolicyFormula
from leukorules.prove.patients import (
    ORDERED_KINDS,
    canonical_patient,
    condition_nodes,
    constants_by_fact,
)
from leukorules.prove.reference import refused
from leukorules.prove.session import policy_conditions
from leukorules.prove.solver import new_solver, satisfiable, z3_module
from leukorules.prove.space import FactClasses
from leukorules.rulegraph import GraphNode

ABSENT = "absent"


@dataclass(frozen=True)
class Transition:
    """The patients for whom a rule's outcome goes from `old` to `new`."""

    old: str
    new: str
    count: int
    conditions: tuple[m.Expr, ...]  # each true for a part of them; together exactly them
    complete: bool  # False: more parts than were described (or not exactly describable)
    example: dict[str, m.Value]


@dataclass(frozen=True)
class RuleChange:
    rule: str
    transitions: tuple[Transition, ...]

    @property
    def count(self) -> int:
        return sum(t.count for t in self.transitions)


@dataclass
class SemanticDiff:
    total: int
    exact: bool
    rules: list[RuleChange] = field(default_factory=list)
    refused: list[Transition] = field(default_factory=list)  # "evaluated" <-> "refused"


def _union_fact(old: m.Fact | None, new: m.Fact | None) -> m.Fact:
    if old is None or new is None:
        found = old or new
        assert found is not None
        return found
    t, u = old.type, new.type
    if t.kind in ("enum", "set"):
        values = (*t.values, *(v for v in u.values if v not in t.values))
        return m.Fact(old.name, m.FactType(t.kind, values), old.description)
    if t.kind in ("integer", "number"):
        low = None if t.minimum is None or u.minimum is None else min(t.minimum, u.minimum)
        high = None if t.maximum is None or u.maximum is None else max(t.maximum, u.maximum)
        return m.Fact(old.name, m.FactType(t.kind, (), t.unit, low, high), old.description)
    return old


class JointSpace:
    """OLD and NEW over shared input variables (see the module docstring)."""

    def __init__(self, old: m.Policy, new: m.Policy) -> None:
        self.z3 = z3_module()
        self.old, self.new = old, new
        olds = {f.name: f for f in old.input_facts}
        news = {f.name: f for f in new.input_facts}
        conditions = [*policy_conditions(old), *policy_conditions(new)]
        everything = {**olds, **news}
        literals = string_literals(everything, conditions)
        literals |= string_literals({**old.facts, **new.facts}, conditions)
        strings = StringPool(
            literals, sum(1 for f in everything.values() if f.type.kind == "string")
        )
        constants = constants_by_fact(conditions)
        self.old_inputs: dict[str, FactVar] = {}
        self.new_inputs: dict[str, FactVar] = {}
        self.classes: dict[str, FactClasses] = {}
        self.admissible: dict[str, frozenset[int]] = {}
        for name in dict.fromkeys([*olds, *news]):
            before, after = olds.get(name), news.get(name)
            if before is not None and after is not None and before.type.kind != after.type.kind:
                pairs = [(f"{name} (old)", before, "old:"), (f"{name} (new)", after, "new:")]
            else:
                pairs = [(name, _union_fact(before, after), "")]
            for key, fact, tag in pairs:
                var = fact_var(fact, tag, strings)
                if tag != "new:" and before is not None:
                    self.old_inputs[name] = var
                if tag != "old:" and after is not None:
                    self.new_inputs[name] = var
                classes = FactClasses(var, constants.get(name, ()))
                self.classes[key] = classes
                allowed = set(range(len(classes)))
                for declared in (before, after):
                    if declared is not None and (tag == "" or declared.type.kind == fact.type.kind):
                        allowed &= classes.within(declared)
                self.admissible[key] = frozenset(allowed)
        self.old_formula = PolicyFormula(old, self.old_inputs, strings, "old:")
        self.new_formula = PolicyFormula(new, self.new_inputs, strings, "new:")
        ordered = {
            f.name for f in [*old.input_facts, *new.input_facts] if f.type.kind in ORDERED_KINDS
        }
        self.exact = all(c.exact for c in self.classes.values()) and not any(
            isinstance(node, m.CompareFacts) and {node.left, node.right} & ordered
            for node in condition_nodes(conditions)
        )
        self.hints = constants
        self.variables = {key: c.var for key, c in self.classes.items()}

    @property
    def total(self) -> int:
        return math.prod(len(a) for a in self.admissible.values())

    def solver(self, old_nodes: Sequence[GraphNode], new_nodes: Sequence[GraphNode]) -> Any:
        """A solver holding both cones and both versions' admissibility."""
        solver = new_solver()
        solver.add(*self.old_formula.definitions(old_nodes))
        solver.add(*self.new_formula.definitions(new_nodes))
        solver.add(self.old_formula.admissible(self.old_inputs))
        solver.add(self.new_formula.admissible(self.new_inputs))
        return solver

    def _outcome(self, formula: PolicyFormula, index: int | None, outcome: str) -> Term:
        if index is None:
            return self.z3.BoolVal(outcome == ABSENT)
        if outcome == ABSENT:
            return self.z3.BoolVal(False)
        return formula.outcome(index, outcome)  # type: ignore[arg-type]

    def rule_change(self, rule_id: str, max_cubes: int = 20) -> RuleChange | None:
        old_index = self.old_formula.graph.index.get(rule_id)
        new_index = self.new_formula.graph.index.get(rule_id)
        if (
            old_index is not None
            and new_index is not None
            and self._same_cone(old_index, new_index)
        ):
            return None
        old_nodes = [] if old_index is None else [old_index]
        new_nodes = [] if new_index is None else [new_index]
        read = set()
        if old_index is not None:
            read |= self.old_formula.inputs_read(old_nodes) | self.old_formula.constraint_facts
        if new_index is not None:
            read |= self.new_formula.inputs_read(new_nodes) | self.new_formula.constraint_facts
        relevant = {k: c for k, c in self.classes.items() if _base_name(k) in read}
        others = math.prod(len(a) for k, a in self.admissible.items() if k not in relevant)
        outcomes_old = [ABSENT] if old_index is None else list(m.OUTCOME_NAMES)
        outcomes_new = [ABSENT] if new_index is None else list(m.OUTCOME_NAMES)
        transitions: list[Transition] = []
        probe = self.solver(old_nodes, new_nodes)
        for before, after in product(outcomes_old, outcomes_new):
            if before == after:
                continue
            term = self.z3.And(
                self._outcome(self.old_formula, old_index, before),
                self._outcome(self.new_formula, new_index, after),
            )
            if not satisfiable(probe, term):
                continue
            space = self.space(relevant, self.admissible, (self.old, self.new))
            found = cover(lambda: self.solver(old_nodes, new_nodes), term, space, max_cubes)
            transitions.append(self._transition(before, after, found, others, probe, term, space))
        return RuleChange(rule_id, tuple(transitions)) if transitions else None

    def space(
        self,
        relevant: Mapping[str, FactClasses],
        admissible: Mapping[str, frozenset[int]],
        admitting: Sequence[m.Policy],
    ) -> Space:
        """The patients of `relevant` facts' classes that every policy of `admitting` admits."""
        constrained = tuple(
            k
            for k in relevant
            if _base_name(k)
            in self.old_formula.constraint_facts | self.new_formula.constraint_facts
        )

        def admitted(combo: Mapping[str, int]) -> bool:
            values = {_base_name(k): self.classes[k].representative(i) for k, i in combo.items()}
            known = {k: v for k, v in values.items() if v is not None}
            return not any(refused(p.constraints, known) for p in admitting)

        allowed = {k: admissible[k] for k in relevant}
        return Space(relevant, allowed, constrained, admitted)

    def _transition(
        self,
        before: str,
        after: str,
        found: Cover,
        others: int,
        solver: Any,
        term: Term,
        space: Space,
    ) -> Transition:
        solver.push()
        try:
            solver.add(term)
            variables = {k: c.var for k, c in space.classes.items()}
            example = canonical_patient(solver, variables, self.hints)
        finally:
            solver.pop()
        conditions = tuple(self.describe(cube, space.admissible) for cube in found.cubes)
        complete = found.complete and self.exact
        return Transition(before, after, found.count * others, conditions, complete, example)

    def describe(self, cube: Cube, admissible: Mapping[str, frozenset[int]]) -> m.Expr:
        """A cube as a condition over the facts it names."""
        parts: list[m.Expr] = []
        for name, allowed in cube.items():
            part = self.classes[name].describe(allowed, admissible.get(name))
            if part != m.Const(True):
                parts.extend(part.items if isinstance(part, m.And) else (part,))
        if not parts:
            return m.Const(True)
        return parts[0] if len(parts) == 1 else m.And(tuple(parts))

    def _same_cone(self, old_index: int, new_index: int) -> bool:
        """The rule, everything upstream of it and the facts they read are the same."""
        old_cone = self.old_formula.cone([old_index])
        new_cone = self.new_formula.cone([new_index])
        if len(old_cone) != len(new_cone):
            return False
        for a, b in zip(old_cone, new_cone, strict=True):
            if isinstance(a, int) and isinstance(b, int):
                if self.old.rules[a] != self.new.rules[b]:
                    return False
            elif a != b or self.old.facts[str(a)] != self.new.facts[str(b)]:
                return False
        read = self.old_formula.inputs_read([old_index])
        if read != self.new_formula.inputs_read([new_index]):
            return False
        same_facts = all(self.old.facts[n] == self.new.facts[n] for n in read)
        return same_facts and self.old.constraints == self.new.constraints

    def refusals(self, max_cubes: int = 20) -> list[Transition]:
        """Patients one version refuses and the other evaluates: described among the patients
        the evaluating version admits."""
        z3 = self.z3
        old_ok = self.old_formula.admissible(self.old_inputs)
        new_ok = self.new_formula.admissible(self.new_inputs)
        everything = {k: frozenset(range(len(c))) for k, c in self.classes.items()}
        constraint_facts = self.old_formula.constraint_facts | self.new_formula.constraint_facts
        read = {
            k
            for k in everything
            if self._declared_apart(_base_name(k)) or _base_name(k) in constraint_facts
        }
        relevant = {k: c for k, c in self.classes.items() if k in read}
        others = math.prod(len(everything[k]) for k in everything if k not in relevant)
        found: list[Transition] = []
        for before, after, admits, ok, term in (
            ("evaluated", "refused", self.old, old_ok, z3.Not(new_ok)),
            ("refused", "evaluated", self.new, new_ok, z3.Not(old_ok)),
        ):

            def evaluating(ok: Term = ok) -> Any:
                solver = new_solver()
                for c in self.classes.values():
                    solver.add(z3.Implies(c.var.known, c.var.within(c.fact)))
                solver.add(ok)
                return solver

            probe = evaluating()
            if not satisfiable(probe, term):
                continue
            declared = admits.facts
            allowed = {
                k: c.within(declared[_base_name(k)]) if _base_name(k) in declared else everything[k]
                for k, c in relevant.items()
            }
            space = self.space(relevant, allowed, (admits,))
            result = cover(evaluating, term, space, max_cubes)
            found.append(self._transition(before, after, result, others, probe, term, space))
        return found

    def _declared_apart(self, name: str) -> bool:
        return self.old.facts.get(name) != self.new.facts.get(name)


def _base_name(key: str) -> str:
    return key.removesuffix(" (old)").removesuffix(" (new)")


def semantic_diff(old: m.Policy, new: m.Policy, max_cubes: int = 20) -> SemanticDiff:
    """Every rule whose outcome differs for some patient (see the module docstring)."""
    space = JointSpace(old, new)
    found = SemanticDiff(space.total, space.exact)
    ids = list(dict.fromkeys([*(r.id for r in old.rules), *(r.id for r in new.rules)]))
    for rule_id in ids:
        change = space.rule_change(rule_id, max_cubes)
        if change is not None:
            found.rules.append(change)
    if old.constraints != new.constraints or any(
        space._declared_apart(f.name) for f in [*old.input_facts, *new.input_facts]
    ):
        found.refused = space.refusals(max_cubes)
    return found
