"""The checker's questions, decided exactly by the solver.

Input: a policy's parts (the checker's draft: facts, rules, gaps, constraints). Output:
`ExactAnalysis`, answering what `leukorules.check.analysis` asks where its bounded search cannot
settle a question: can a condition be true (derived facts taken as free values, as the checker
reads a condition on its own), can two rules both fire for one admissible patient (and which
patient), can a rule fire at all (and if not, why not). Built lazily: a question costs the
solver work of the rules it involves, and a policy whose every question the search settles never
starts the solver. Requires the `prove` extra (`SolverMissing` otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from leukorules import model as m
from leukorules.prove.domains import StringPool, Term, fact_vars
from leukorules.prove.encoding import Conditions, PolicyParts
from leukorules.prove.patients import canonical_patient
from leukorules.prove.session import Session, policy_conditions, string_pool
from leukorules.prove.solver import new_solver, satisfiable, z3_module
from leukorules.rulegraph import PolicyGraphError


class ConditionSpace:
    """Every fact (derived ones too) as a free variable: a condition read on its own."""

    def __init__(self, facts: Mapping[str, m.Fact], strings: StringPool) -> None:
        self.z3 = z3_module()
        self.variables = fact_vars(facts.values(), strings)
        self.conditions = Conditions(self.variables)
        self.solver: Any = new_solver()
        self.solver.add(
            *(self.z3.Implies(v.known, v.within(v.fact)) for v in self.variables.values())
        )

    def truth(self, expr: m.Expr) -> tuple[Term, Term]:
        return self.conditions.truth(expr)

    def possible(self, expr: m.Expr) -> bool:
        """Some values of the facts (each known or not) make `expr` true."""
        return satisfiable(self.solver, self.truth(expr)[0])

    def example(self, expr: m.Expr) -> dict[str, m.Value] | None:
        if not self.possible(expr):
            return None
        self.solver.push()
        try:
            self.solver.add(self.truth(expr)[0])
            return canonical_patient(self.solver, self.variables, {})
        finally:
            self.solver.pop()


class ExactAnalysis:
    """The checker's exact answers for one draft (see the module docstring)."""

    def __init__(self, parts: PolicyParts) -> None:
        z3_module()  # SolverMissing now rather than at the first question
        self.parts = parts
        self.index = {rule.id: i for i, rule in enumerate(parts.rules)}

    @cached_property
    def conditions(self) -> ConditionSpace:
        return ConditionSpace(self.parts.facts, string_pool(self.parts))

    @cached_property
    def session(self) -> Session | None:
        """The rules' semantics; None when they do not form a graph (errors reported apart)."""
        try:
            return Session(self.parts)
        except PolicyGraphError:
            return None

    def condition_possible(self, expr: m.Expr) -> bool:
        return self.conditions.possible(expr)

    def both_fire(self, first: str, second: str) -> dict[str, m.Value] | None:
        """The canonical admissible patient for whom both rules fire, or None."""
        session = self.session
        assert session is not None
        i, j = self.index[first], self.index[second]
        formula = session.formula
        both = session.z3.And(formula.fired(i), formula.fired(j))
        return session.witness(both, [i, j])

    def can_fire(self, rule: str) -> bool:
        session = self.session
        assert session is not None
        i = self.index[rule]
        return session.possible(session.formula.fired(i), [i])

    def fireable(self, rules: Sequence[str]) -> set[str]:
        """The rules among these that some admissible patient makes fire (one question each,
        to a solver holding just that rule's cone)."""
        return {rule for rule in rules if self.can_fire(rule)}

    def why_never(self, rule: str, unreachable: Sequence[str]) -> str:
        """Why a rule that can never fire never does, in a few words."""
        session = self.session
        assert session is not None
        formula = session.formula
        i = self.index[rule]
        when_true = formula.conditions.truth(formula.rules[i].when)[0]
        graph = formula.graph
        derived = formula.nodes_of(formula.rules[i].when)
        solver = session.solver([*derived, i])
        if not solver.possible(when_true):
            free = session.solver([*derived, i], refusing=False)
            if derived and not free.possible(when_true):
                names = ", ".join(f"`{n}`" for n in derived)
                return f"the derived facts it reads ({names}) never have the values it needs"
            return "its condition holds only for patients the constraints refuse"
        blocked = [
            formula.rules[a].id for a in graph.after[i] if formula.rules[a].id in unreachable
        ]
        if blocked:
            return f"it comes after `{blocked[0]}`, which can never fire"
        if not solver.possible(formula.base[i][0]):
            after = ", ".join(f"`{formula.rules[a].id}`" for a in graph.after[i])
            return f"its condition never holds once {after} fired"
        winners = ", ".join(f"`{formula.rules[o].id}`" for o in graph.overridden_by.get(i, ()))
        return f"whenever its condition holds, a rule that overrides it fires ({winners})"


__all__ = ["ConditionSpace", "ExactAnalysis", "policy_conditions"]
