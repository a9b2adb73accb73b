"""Which unknown facts would decide each undetermined rule, as formulas over per-row tests.

Input: a checked `Policy` and its layering (`leukorules.cohort.sql.compile_policy`). Output: one
`MissingPair` per (rule, input fact) pair that can be missing, upstream rules first: the fact is
missing for the rule in a row when the rule is undetermined there and the pair's `terms` hold.
The terms are data (`Term`), built from four tests of a row:

    Null(fact)          the input fact is unknown
    Unknown(node)       a sub-condition (an `and`/`or` inside a rule's condition) is unknown
    DerivedNull(fact)   the derived fact has no value
    Pair(rule, fact)    the pair of an upstream rule (one the rule comes after, is overridden
                        by, or that derives a fact it reads) holds

combined with `AllOf` and `AnyOf`. `leukorules.cohort.sql` writes them as SQL columns (the lists
the spark engine returns); the duckdb engine has its query return only the first three tests, as
booleans, and evaluates the formulas on them with array operations
(`leukorules.cohort.duckdb_missing`): cheaper than one SQL column per pair.

This is the python engine's `missing` (`Run.missing`, `leukorules.engine.trace.support`): a fact
is missing for an undetermined rule when it is in the support of the rule's unknown condition
(an unknown fact under a path of unknown sub-conditions), or missing for an undetermined rule
deriving an unknown derived fact the rule reads, or for an undetermined rule it comes after or
that overrides it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from leukorules import model as m


@dataclass(frozen=True, slots=True)
class Null:
    fact: str


@dataclass(frozen=True, slots=True)
class Unknown:
    node: m.Expr


@dataclass(frozen=True, slots=True)
class DerivedNull:
    fact: str


@dataclass(frozen=True, slots=True)
class Pair:
    rule: str
    fact: str


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Term, ...]


Test = Null | Unknown | DerivedNull
Term = Test | Pair | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class MissingPair:
    """`fact` is missing for `rule` in a row where the rule is undetermined and any of `terms`
    holds."""

    rule: str
    fact: str
    terms: tuple[Term, ...]


def pair_formulas(
    policy: m.Policy,
    level: Mapping[str, int],
    overridden_by: Mapping[str, Sequence[str]],
    derivers: Mapping[str, Sequence[m.Rule]],
) -> list[MissingPair]:
    """Every pair that can be missing, ordered by the rules' `level` ("rule:<id>" -> layer), so
    that a pair's terms name only pairs before it."""
    inputs = {f.name for f in policy.input_facts}
    derived = {f.name for f in policy.derived_facts}
    rules = {r.id: r for r in policy.rules}
    reach: dict[str, list[str]] = {}
    found: set[tuple[str, str]] = set()

    def reach_of(rule_id: str) -> list[str]:
        """The input facts the rule's outcome can depend on, in reading order."""
        if rule_id in reach:
            return reach[rule_id]
        rule = rules[rule_id]
        facts: dict[str, None] = {}
        for name in m.expr_facts(rule.when):
            if name in inputs:
                facts[name] = None
            else:
                for deriver in derivers.get(name, ()):
                    facts.update(dict.fromkeys(reach_of(deriver.id)))
        for upstream in (*rule.after, *overridden_by.get(rule_id, ())):
            facts.update(dict.fromkeys(reach_of(upstream)))
        reach[rule_id] = list(facts)
        return reach[rule_id]

    def support(node: m.Expr, fact: str, unknown: bool = False) -> Term | None:
        """When `fact` is in the support of unknown `node`; None: never. `unknown`: the caller
        knows `node` is unknown (a rule's condition when the rule, with nothing before or over
        it, is undetermined), so it is not tested again."""
        match node:
            case m.Const() | m.Known():
                return None
            case m.And(items=items) | m.Or(items=items):
                parts = tuple(p for p in (support(i, fact) for i in items) if p is not None)
                if not parts:
                    return None
                if unknown:
                    return AnyOf(parts)
                return AllOf((Unknown(node), AnyOf(parts)))
            case m.Not(item=item):
                return support(item, fact)
        atoms: list[Term] = []
        for name in dict.fromkeys(m.expr_facts(node)):
            if name == fact:
                atoms.append(Null(name))
            elif name in derived:
                deeper = tuple(
                    Pair(j.id, fact) for j in derivers.get(name, ()) if (j.id, fact) in found
                )
                if deeper:
                    atoms.append(AllOf((DerivedNull(name), AnyOf(deeper))))
        return AnyOf(tuple(atoms)) if atoms else None

    pairs: list[MissingPair] = []
    # Upstream rules first, so that a rule's terms can name the pairs of rules it depends on.
    for rule in sorted(policy.rules, key=lambda r: level["rule:" + r.id]):
        for fact in reach_of(rule.id):
            terms: list[Term] = []
            alone = not rule.after and rule.id not in overridden_by
            direct = support(rule.when, fact, unknown=alone)
            if direct is not None:
                terms.append(direct)
            for j in (*rule.after, *overridden_by.get(rule.id, ())):
                if (j, fact) in found:
                    terms.append(Pair(j, fact))
            if terms:
                found.add((rule.id, fact))
                pairs.append(MissingPair(rule.id, fact, tuple(terms)))
    return pairs


def tests_of(pairs: Sequence[MissingPair]) -> list[Test]:
    """The row tests the pairs' terms use, each once, in the order they first appear."""
    seen: dict[Test, None] = {}

    def walk(term: Term) -> None:
        match term:
            case AllOf(items=items) | AnyOf(items=items):
                for item in items:
                    walk(item)
            case Null() | Unknown() | DerivedNull():
                seen.setdefault(term, None)

    for pair in pairs:
        for term in pair.terms:
            walk(term)
    return list(seen)
