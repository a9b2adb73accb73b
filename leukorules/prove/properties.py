"""`leukorules prove`: each property of a policy proven for every patient, or refuted.

Input: a checked `model.Policy` with properties. Output: a `PropertyResult` per property: it
holds for every patient the constraints admit, or a `Counterexample` (the canonical patient of
`leukorules.prove.patients`, with the outcomes and derived values the compiled engine gives it,
and the claim's truth for it, false or unknown), ready to be written as a scenario file.

How: with the solver (`method="solver"`), "some admissible patient makes the claim not true" is
asked of the formula of `leukorules.prove.encoding` (unsatisfiable: the property holds). Without
it (`method="enumeration"`), every representative patient of `leukorules.prove.enumerate` is
evaluated by the engine, which decides exactly when the space is exact and at most `limit`
patients. "auto" takes the solver when it is installed. Every counterexample is evaluated by
the engine before it is reported, so a patient shown really violates its property.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from leukorules import model as m
from leukorules.engine.compile import CompiledPolicy, Run, compile_policy
from leukorules.engine.facts import FactsError
from leukorules.logic import Truth
from leukorules.prove.claims import claim_truth, facts_read, rules_read
from leukorules.prove.enumerate import PatientSpace
from leukorules.prove.patients import claim_conditions
from leukorules.prove.scenario import scenario_yaml
from leukorules.prove.session import Session, policy_conditions
from leukorules.prove.solver import SolverMissing, solver_installed

Method = Literal["auto", "solver", "enumeration"]
ENUMERATION_LIMIT = 200_000


class CannotProve(Exception):
    """No method can decide the properties (no solver, and too many patients to enumerate)."""


@dataclass(frozen=True)
class Counterexample:
    """A patient for whom a property's claim is not true."""

    facts: dict[str, m.Value]
    outcomes: tuple[tuple[str, m.OutcomeName], ...]  # the rules the claim reads
    derived: dict[str, m.Value | None]  # the derived facts the claim reads
    truth: Truth  # False, or None: unknown

    def scenario(self, prop: m.Property) -> str:
        """This patient as a scenario file `leukorules test` runs (see `prove.scenario`)."""
        verdict = "false" if self.truth is False else "unknown"
        description = (
            f"Counterexample found by `leukorules prove`: property {prop.id} "
            f'("{prop.text}") is {verdict} for this patient.'
        )
        return scenario_yaml(
            f"counterexample to {prop.id}", description, self.facts, self.outcomes, self.derived
        )


@dataclass(frozen=True)
class PropertyResult:
    prop: m.Property
    counterexample: Counterexample | None
    vacuous: bool  # an `implies` whose premise no admissible patient makes true
    method: Literal["solver", "enumeration"]

    @property
    def holds(self) -> bool:
        return self.counterexample is None


def prove(
    policy: m.Policy,
    properties: Sequence[m.Property] | None = None,
    method: Method = "auto",
    limit: int = ENUMERATION_LIMIT,
) -> list[PropertyResult]:
    """Prove each property (all of the policy's by default); see the module docstring.

    Raises SolverMissing (method "solver" without the extra) or CannotProve."""
    chosen = list(policy.properties if properties is None else properties)
    compiled = compile_policy(policy)
    if method == "solver" or (method == "auto" and solver_installed()):
        session = Session(policy, [p.claim for p in chosen])
        return [_by_solver(compiled, session, p) for p in chosen]
    space = PatientSpace(policy, [*policy_conditions(policy), *_claims_conditions(chosen)])
    if method == "auto" and (not space.exact or space.size > limit):
        raise CannotProve(
            f"{space.size:,} representative patients"
            + ("" if space.exact else ", and conditions that compare two facts")
            + f": too many to enumerate without the solver; {SolverMissing()}"
        )
    return [_by_enumeration(compiled, space, p) for p in chosen]


def _claims_conditions(chosen: Iterable[m.Property]) -> list[m.Expr]:
    return [c for p in chosen for c in claim_conditions(p.claim)]


def _by_solver(compiled: CompiledPolicy, session: Session, prop: m.Property) -> PropertyResult:
    formula = session.formula
    z3 = session.z3
    nodes = formula.nodes_of_claim(prop.claim)
    direct = [n for n in facts_read(prop.claim) if n in session.inputs]
    solver = session.solver(nodes, direct)
    true, _ = formula.claim(prop.claim)
    patient = solver.witness(z3.Not(true))
    vacuous = False
    if isinstance(prop.claim, m.Implies):
        vacuous = not solver.possible(formula.claim(prop.claim.premise)[0])
    found = None if patient is None else _counterexample(compiled, prop, patient)
    if patient is not None and found is None:
        raise RuntimeError(
            f"the solver and the engine disagree on property {prop.id} for {patient!r}"
        )
    return PropertyResult(prop, found, vacuous, "solver")


def _by_enumeration(
    compiled: CompiledPolicy, space: PatientSpace, prop: m.Property
) -> PropertyResult:
    premise_seen = False
    index = compiled.plan.graph.index
    for patient in space.patients():
        try:
            run = compiled.run(patient)
        except FactsError:
            continue  # refused: breaks a constraint
        values = {**patient, **run.derived}

        def outcome(rule: str, run: Run = run) -> m.OutcomeName:
            return run.outcome(index[rule])

        if isinstance(prop.claim, m.Implies) and not premise_seen:
            premise_seen = claim_truth(prop.claim.premise, values, outcome) is True
        if claim_truth(prop.claim, values, outcome) is not True:
            found = _counterexample(compiled, prop, patient)
            return PropertyResult(prop, found, False, "enumeration")
    vacuous = isinstance(prop.claim, m.Implies) and not premise_seen
    return PropertyResult(prop, None, vacuous, "enumeration")


def _counterexample(
    compiled: CompiledPolicy, prop: m.Property, patient: dict[str, m.Value]
) -> Counterexample | None:
    """The patient with what the engine decides for it; None if the claim is true for it."""
    run = compiled.run(patient)
    index = compiled.plan.graph.index
    values = {**patient, **run.derived}
    truth = claim_truth(prop.claim, values, lambda rule: run.outcome(index[rule]))
    if truth is True:
        return None
    outcomes = tuple((rule, run.outcome(index[rule])) for rule in rules_read(prop.claim))
    derived_names = [n for n in facts_read(prop.claim) if compiled.policy.facts[n].derived]
    derived: dict[str, m.Value | None] = {}
    for name in derived_names:
        value = run.derived.get(name)
        assert value is None or isinstance(value, bool | int | float | str)
        derived[name] = value
    return Counterexample(dict(patient), outcomes, derived, truth)
