"""The policy's semantics as one solver formula: every rule's outcome for every patient.

Input: a policy's facts, rules, gaps and constraints (a `model.Policy`, or the checker's draft)
and the solver variables of its input facts (`leukorules.prove.domains`; two policies compared
by `diff` share them). Output: a `PolicyFormula`: `definitions` (equations that fix every term
below once the input facts are fixed, to add to a solver), `admissible` (the patient is one the
policy evaluates), and terms for each rule's outcomes, each derived fact, each condition and
claim. A patient is an assignment of the input variables; the definitions determine the rest.

Kleene logic as two booleans: a three-valued truth is a pair (T, F), "is true" and "is false";
unknown is neither; T and F are never both true. `not` swaps them; `a and b` is (Ta and Tb,
Fa or Fb); `or` dually. A test of a fact is (known and test, known and not test); `x is known`
is (known, not known). This is `leukorules.logic`, and the rules below are exactly those of
`leukorules.engine.runtime` (the tests evaluate solver models with the engine and compare):

- base(r) = when(r) and fired(a) for every rule a that r comes `after`, where fired(a) is the
  effective truth of a: true when a fired, false when it did not fire or was overridden,
  unknown when it is undetermined;
- effective(r) = base(r) and not (some rule overriding r is fired);
- outcomes: fired = effective true; undetermined = effective unknown; overridden = base true
  and some rule overriding r fired; not_fired = effective false and not overridden;
- a derived fact d has the value v when some rule deriving v fired and every rule deriving
  another value is effectively false; otherwise d is unknown (no default);
- the patient is admissible when every known input fact has a value its declaration admits
  (enum value, set element, range) and no constraint is broken (`when` true and `require`
  false): the facts every entry point refuses are not patients the rules ever see.

A claim (`model.Claim`) is a condition that may test outcomes (definite: true or false) and use
`implies`, which is true unless the premise is true and the conclusion is not; a property holds
when its claim is true (T) for every admissible patient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from leukorules import model as m
from leukorules.prove.domains import FactVar, StringPool, Term, fact_var
from leukorules.prove.patients import claim_leaves
from leukorules.prove.reference import cone_order
from leukorules.prove.solver import conj, disj, neg, same, z3_module
from leukorules.rulegraph import GraphNode, PolicyGraph

Kleene = tuple[Term, Term]  # (is true, is false)


class PolicyParts(Protocol):
    """What the encoding reads of a policy (a `model.Policy` or the checker's draft)."""

    @property
    def facts(self) -> Mapping[str, m.Fact]: ...

    @property
    def rules(self) -> Sequence[m.Rule]: ...

    @property
    def gaps(self) -> Sequence[m.Gap]: ...

    @property
    def constraints(self) -> Sequence[m.Constraint]: ...


class Conditions:
    """Conditions over fact terms (input variables, or derived facts' terms) as Kleene pairs."""

    def __init__(self, terms: Mapping[str, FactVar]) -> None:
        self.z3 = z3_module()
        self.terms = terms

    def truth(self, expr: m.Expr) -> Kleene:
        z3 = self.z3
        match expr:
            case m.Const(value=value):
                return z3.BoolVal(value), z3.BoolVal(not value)
            case m.And(items=items):
                parts = [self.truth(i) for i in items]
                return conj([t for t, _ in parts]), disj([f for _, f in parts])
            case m.Or(items=items):
                parts = [self.truth(i) for i in items]
                return disj([t for t, _ in parts]), conj([f for _, f in parts])
            case m.Not(item=item):
                true, false = self.truth(item)
                return false, true
            case m.Known(fact=name, known=known):
                var = self.terms[name]
                return (var.known, neg(var.known)) if known else (neg(var.known), var.known)
            case m.CompareFacts(left=left, op=op, right=right):
                a, b = self.terms[left], self.terms[right]
                test = a.compare_to(op, b)
                both = conj([a.known, b.known])
                return conj([both, test]), conj([both, neg(test)])
        var = self.terms[_fact_of(expr)]
        match expr:
            case m.Compare(op=op, value=literal):
                test = var.compare(op, literal)
            case m.Member(values=values, negated=negated):
                test = var.member(values)
                test = neg(test) if negated else test
            case m.Contains(value=element):
                test = var.contains(element)
        return conj([var.known, test]), conj([var.known, neg(test)])


class _Pairs:
    """The Kleene pair of each rule, made when first asked for (a large policy asks for few)."""

    def __init__(self, make: Callable[[str], Kleene], name: str) -> None:
        self._make = make
        self._name = name
        self._made: dict[int, Kleene] = {}

    def __getitem__(self, index: int) -> Kleene:
        found = self._made.get(index)
        if found is None:
            found = self._made[index] = self._make(f"{self._name}{index}")
        return found


def _fact_of(expr: m.Expr) -> str:
    if isinstance(expr, m.Compare | m.Member | m.Contains):
        return expr.fact
    raise TypeError(f"not a test of a fact: {expr!r}")


class PolicyFormula:
    """One policy's rules, derived facts and constraints over given input variables.

    Terms are built on demand, one rule graph node at a time (a node after everything it
    depends on), so a question about a few rules of a large policy costs what their upstream
    cone costs: `definitions(nodes)` gives the equations of the nodes asked for and of
    everything upstream of them, and `inputs_read(nodes)` the input facts those read."""

    def __init__(
        self, policy: PolicyParts, inputs: Mapping[str, FactVar], strings: StringPool, tag: str = ""
    ) -> None:
        self.z3 = z3_module()
        self.policy = policy
        self.rules = list(policy.rules)
        self.graph = PolicyGraph.build(self.rules, policy.facts)  # PolicyGraphError if not a DAG
        self.tag = tag
        self.inputs = inputs
        terms: dict[str, FactVar] = {}
        for fact in policy.facts.values():
            if fact.derived:
                terms[fact.name] = fact_var(fact, f"{tag}derived:", strings)
            else:
                terms[fact.name] = inputs[fact.name]
        self.terms = terms
        self.conditions = Conditions(terms)
        self.base = _Pairs(self._pair, "base")
        self.effective = _Pairs(self._pair, "effective")
        self._defined: dict[GraphNode, Term] = {}
        self._reads: dict[GraphNode, set[str]] = {}
        self._domains: dict[str, Term] = {}
        self.refused: Term = disj([self.broken(c) for c in policy.constraints])
        self.constraint_facts = {
            name
            for c in policy.constraints
            for name in (*m.expr_facts(c.when), *m.expr_facts(c.require))
        }

    @property
    def input_facts(self) -> list[m.Fact]:
        return [f for f in self.policy.facts.values() if not f.derived]

    def domain(self, name: str) -> Term:
        """A known value of this input fact is one its declaration admits."""
        found = self._domains.get(name)
        if found is None:
            var = self.inputs[name]
            declared = self.policy.facts[name]
            found = self._domains[name] = self.z3.Implies(var.known, var.within(declared))
        return found

    def _pair(self, name: str) -> Kleene:
        z3 = self.z3
        return z3.Bool(f"{self.tag}{name}+"), z3.Bool(f"{self.tag}{name}-")

    # --- the definitions, node by node

    def cone(self, nodes: Iterable[GraphNode]) -> list[GraphNode]:
        """These nodes and everything upstream of them, each after what it depends on."""
        return cone_order(self.graph, nodes)

    def definitions(self, nodes: Iterable[GraphNode]) -> list[Term]:
        """The equations that fix the terms of these nodes (and their cone) from the inputs:
        one term per node of the cone."""
        return [self._node(node) for node in self.cone(nodes)]

    def _node(self, node: GraphNode) -> Term:
        found = self._defined.get(node)
        if found is None:
            self._reads[node] = set()
            equations = (
                self._define_rule(node) if isinstance(node, int) else self._define_derived(node)
            )
            found = self._defined[node] = conj(equations)
        return found

    def inputs_read(self, nodes: Iterable[GraphNode]) -> set[str]:
        """The input facts read by the conditions of these nodes' cone."""
        found: set[str] = set()
        for node in self.cone(nodes):
            self._node(node)
            found |= self._reads[node]
        return found

    def everything(self) -> list[GraphNode]:
        return list(self.graph.order)

    def _truth(self, node: GraphNode, expr: m.Expr) -> Kleene:
        self._reads[node].update(n for n in m.expr_facts(expr) if n in self.inputs)
        return self.conditions.truth(expr)

    def _define_rule(self, i: int) -> list[Term]:
        when_t, when_f = self._truth(i, self.rules[i].when)
        after = [self.effective[a] for a in self.graph.after[i]]
        winners = [self.effective[o] for o in self.graph.overridden_by.get(i, ())]
        base_t, base_f = self.base[i]
        effective_t, effective_f = self.effective[i]
        return [
            same(base_t, conj([when_t, *(t for t, _ in after)])),
            same(base_f, disj([when_f, *(f for _, f in after)])),
            same(effective_t, conj([base_t, *(f for _, f in winners)])),
            same(effective_f, disj([base_f, *(t for t, _ in winners)])),
        ]

    def _define_derived(self, name: str) -> list[Term]:
        z3 = self.z3
        var = self.terms[name]
        by_value: dict[object, list[int]] = {}
        for i in self.graph.derivers[name]:
            conclusion = self.rules[i].conclusion
            assert isinstance(conclusion, m.Derive)
            by_value.setdefault(_value_key(conclusion.value), []).append(i)
        found: list[Term] = []
        cases: list[Term] = []
        for key, deriving in by_value.items():
            others = [i for k, rules in by_value.items() if k != key for i in rules]
            holds = conj(
                [
                    disj([self.effective[i][0] for i in deriving]),
                    *(self.effective[i][1] for i in others),
                ]
            )
            conclusion = self.rules[deriving[0]].conclusion
            assert isinstance(conclusion, m.Derive)
            found.append(z3.Implies(holds, var.compare("==", conclusion.value)))
            cases.append(holds)
        found.append(same(var.known, disj(cases)))
        if var.kind in ("enum", "string"):  # an unknown value still names some value: in range
            found.append(var.within(var.fact))
        return found

    def admissible(self, facts: Iterable[str], refusing: bool = True) -> Term:
        """The patient is admissible as far as these input facts (and every constraint) go:
        known values within their declarations, no constraint broken (unless `refusing` is
        False). Facts outside `facts` and the constraints may be left unknown, which breaks
        nothing, so a patient found this way is admissible as a whole."""
        named = set(facts) | self.constraint_facts
        inputs = [n for n in sorted(named) if n in self.inputs and n in self.policy.facts]
        domains = [self.domain(n) for n in inputs]
        return conj([*domains, neg(self.refused)]) if refusing else conj(domains)

    def nodes_of(self, expr: m.Expr) -> list[GraphNode]:
        """The rule graph nodes a condition reads: the derived facts in it."""
        return [n for n in dict.fromkeys(m.expr_facts(expr)) if n in self.graph.derivers]

    def nodes_of_claim(self, claim: m.Claim) -> list[GraphNode]:
        found: list[GraphNode] = []
        for leaf in claim_leaves(claim):
            if isinstance(leaf, m.RuleOutcome):
                index = self.graph.index[leaf.rule]
                found.extend((index, *self.graph.overridden_by.get(index, ())))
            else:
                found.extend(self.nodes_of(leaf))
        return found

    # --- what the proofs ask about

    def broken(self, constraint: m.Constraint) -> Term:
        """The input facts break this constraint: `when` true and `require` false."""
        when_t, _ = self.conditions.truth(constraint.when)
        _, require_f = self.conditions.truth(constraint.require)
        return conj([when_t, require_f])

    def fired(self, i: int) -> Term:
        return self.effective[i][0]

    def overridden(self, i: int) -> Term:
        z3 = self.z3
        winners = [self.effective[o][0] for o in self.graph.overridden_by.get(i, ())]
        return z3.And(self.base[i][0], z3.Or(winners)) if winners else z3.BoolVal(False)

    def outcome(self, i: int, outcome: m.OutcomeName) -> Term:
        z3 = self.z3
        true, false = self.effective[i]
        match outcome:
            case "fired":
                return true
            case "undetermined":
                return z3.And(z3.Not(true), z3.Not(false))
            case "overridden":
                return self.overridden(i)
        return z3.And(false, z3.Not(self.overridden(i)))

    def claim(self, claim: m.Claim) -> Kleene:
        z3 = self.z3
        match claim:
            case m.RuleOutcome(rule=rule, outcome=outcome):
                term = self.outcome(self.graph.index[rule], outcome)
                return term, z3.Not(term)
            case m.AllOf(items=items):
                parts = [self.claim(i) for i in items]
                return z3.And([t for t, _ in parts]), z3.Or([f for _, f in parts])
            case m.AnyOf(items=items):
                parts = [self.claim(i) for i in items]
                return z3.Or([t for t, _ in parts]), z3.And([f for _, f in parts])
            case m.Negation(item=item):
                true, false = self.claim(item)
                return false, true
            case m.Implies(premise=premise, conclusion=conclusion):
                holds = z3.Or(z3.Not(self.claim(premise)[0]), self.claim(conclusion)[0])
                return holds, z3.Not(holds)
        return self.conditions.truth(claim)


def _value_key(value: m.Value) -> object:
    """Derived values compared as the engine compares them (1 and 1.0 are one value)."""
    return (type(value) is bool, value)


def inputs_of(policy: PolicyParts, strings: StringPool, tag: str = "") -> dict[str, FactVar]:
    """Fresh variables for a policy's input facts."""
    return {f.name: fact_var(f, tag, strings) for f in policy.facts.values() if not f.derived}
