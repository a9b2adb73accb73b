"""A solver loaded with one policy's semantics, asked many questions.

Input: a policy (`PolicyParts`: a `model.Policy` or the checker's draft) whose rules form a DAG
with every name resolved. Output: a `Session`: its `formula` (`leukorules.prove.encoding`), a
solver holding the formula's definitions and its admissibility (only the patients the policy
evaluates count), and two questions: is there a patient for whom a term holds (`possible`), and
which one (`witness`: the canonical patient of `leukorules.prove.patients`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from leukorules import model as m
from leukorules.prove.domains import FactVar, StringPool, Term, string_literals
from leukorules.prove.encoding import PolicyFormula, PolicyParts, inputs_of
from leukorules.prove.patients import canonical_patient, claim_conditions, constants_by_fact
from leukorules.prove.solver import new_solver, satisfiable, z3_module
from leukorules.rulegraph import GraphNode


def policy_conditions(policy: PolicyParts, claims: Iterable[m.Claim] = ()) -> Iterator[m.Expr]:
    """Every condition of a policy: rules, gaps, constraints, and the claims given."""
    for rule in policy.rules:
        yield rule.when
    for gap in policy.gaps:
        yield gap.when
    for constraint in policy.constraints:
        yield constraint.when
        yield constraint.require
    for claim in claims:
        yield from claim_conditions(claim)


def string_pool(policy: PolicyParts, claims: Iterable[m.Claim] = ()) -> StringPool:
    literals = string_literals(policy.facts, policy_conditions(policy, claims))
    literals.update(
        str(r.conclusion.value)
        for r in policy.rules
        if isinstance(r.conclusion, m.Derive)
        and isinstance(r.conclusion.value, str)
        and policy.facts[r.conclusion.fact].type.kind == "string"
    )
    others = sum(1 for f in policy.facts.values() if f.type.kind == "string")
    return StringPool(literals, others)


class Session:
    """One policy's formula; each question gets a solver holding just what it needs."""

    def __init__(self, policy: PolicyParts, claims: Iterable[m.Claim] = ()) -> None:
        self.z3 = z3_module()
        claims = tuple(claims)
        strings = string_pool(policy, claims)
        self.inputs = inputs_of(policy, strings)
        self.formula = PolicyFormula(policy, self.inputs, strings)
        self.hints = constants_by_fact(policy_conditions(policy, claims))

    def solver(
        self, nodes: Iterable[GraphNode], facts: Iterable[str] = (), refusing: bool = True
    ) -> Solver:
        """A solver holding the definitions of `nodes` (and their cone) and the admissibility
        of the patient, over the input facts these read and `facts` (with `refusing` False,
        the constraints refuse nobody: only the declarations bound the facts)."""
        nodes = list(nodes)
        formula = self.formula
        solver: Any = new_solver()
        solver.add(*formula.definitions(nodes))
        read = formula.inputs_read(nodes) | set(facts)
        solver.add(formula.admissible(read, refusing))
        named = read | formula.constraint_facts
        variables = {n: v for n, v in self.inputs.items() if n in named}
        return Solver(solver, variables, self.hints)

    def possible(self, term: Term, nodes: Iterable[GraphNode], facts: Iterable[str] = ()) -> bool:
        """Some admissible patient makes `term` true (`nodes`: the rules and derived facts
        `term` reads; `facts`: the input facts it reads directly)."""
        return self.solver(nodes, facts).possible(term)

    def witness(
        self, term: Term, nodes: Iterable[GraphNode], facts: Iterable[str] = ()
    ) -> dict[str, m.Value] | None:
        """The canonical admissible patient for whom `term` is true, or None."""
        return self.solver(nodes, facts).witness(term)

    def pinned(self, patient: Mapping[str, m.Value]) -> Term:
        """This exact patient: its known facts with their values, the others unknown. A string
        no condition writes stands for itself through one of the pool's other strings (equal
        strings by the same one), which every condition treats alike."""
        z3 = self.z3
        others: dict[object, str] = {}
        terms = []
        for name, var in self.inputs.items():
            if name not in patient:
                terms.append(z3.Not(var.known))
                continue
            value = patient[name]
            if var.strings is not None and value not in var.strings.index:
                spare = [t for t in var.strings.others if t not in others.values()]
                value = others.setdefault(value, spare[0])
            terms.append(var.equals(value))
        return z3.And(terms)


class Solver:
    """A solver loaded for one family of questions, over the input facts that matter."""

    def __init__(
        self,
        solver: Any,
        variables: Mapping[str, FactVar],
        hints: Mapping[str, Sequence[m.Value]],
    ) -> None:
        self.z3 = z3_module()
        self.solver = solver
        self.variables = variables
        self.hints = hints

    def possible(self, term: Term) -> bool:
        return satisfiable(self.solver, term)

    def witness(self, term: Term) -> dict[str, m.Value] | None:
        if not self.possible(term):
            return None
        self.solver.push()
        try:
            self.solver.add(term)
            return canonical_patient(self.solver, self.variables, self.hints)
        finally:
            self.solver.pop()
