"""Seeded workloads for the benchmarks: generated policies, patient cohorts, hand-style functions.

`policy_text(rules, seed)` writes a valid policy of `rules` rules over 25 input facts (10 bool,
8 enum, 5 integer, 2 number) shaped like a clinical guideline: most rules start with the same
kind of diagnosis test, then one to three more tests (`and`, sometimes `or`/`not`/`in`), about
one rule in ten comes `after` an earlier recommendation, one in thirty `overrides` an earlier
rule, and two derived enum facts are derived by mutually exclusive rules and read by later rules.

`patients(policy, n, seed)` draws patients with about 25 % of facts unknown, redrawing any whose
facts break one of the policy's constraints (such facts are refused before evaluation).

`handstyle_source(policy)` writes the Python function a careful programmer would write for the
same rules (the floor for interpreted Python on generated policies): one local per fact, one
boolean per rule meaning "definitely fired" (and "definitely not fired" where `overrides` or a
derivation needs it), tests on unknown facts written out as explicit None checks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from leukorules import logic
from leukorules import model as m

ENUMS = {
    "diagnosis": ["pml", "adem", "toxic", "drug", "other"],
    "stage": ["early", "mid", "late"],
    "severity_score": ["mild", "moderate", "severe"],
    "response_a": ["none", "partial", "full"],
    "response_b": ["none", "partial", "full"],
    "imaging": ["normal", "abnormal", "progressed"],
    "csf": ["normal", "abnormal"],
    "exposure": ["none", "past", "ongoing", "unknown_source"],
}
BOOLS = [f"sign_{i}" for i in range(10)]
INTEGERS = {f"lab_{i}": (0, 100) for i in range(5)}
NUMBERS = {"dose_a": (0.0, 10.0), "dose_b": (0.0, 10.0)}
DERIVED = {"risk": ["low", "high", "very_high"], "phase": ["induction", "maintenance"]}


def _test(rng: random.Random, name: str) -> str:
    if name in ENUMS:
        values = ENUMS[name]
        if rng.random() < 0.3:
            chosen = rng.sample(values, k=min(len(values) - 1, rng.randint(1, 2)))
            return f"{name} in {{{', '.join(chosen)}}}"
        return f"{name} == {rng.choice(values)}"
    if name in INTEGERS:
        low, high = INTEGERS[name]
        op = rng.choice([">=", "<", ">", "<="])
        return f"{name} {op} {rng.randint(low + 5, high - 5)}"
    if name in NUMBERS:
        low_f, high_f = NUMBERS[name]
        op = rng.choice([">=", "<"])
        return f"{name} {op} {round(rng.uniform(low_f + 1, high_f - 1), 1)}"
    return name if rng.random() < 0.8 else f"not {name}"


def policy_text(rules: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    out = [
        f'policy bench.generated_{rules} {{ title "Generated {rules}" version "1.0" }}',
        'evidence 1 { citation "Generated for benchmarks" }',
    ]
    for name, values in ENUMS.items():
        out.append(f"fact {name}: enum {{{', '.join(values)}}}")
    out += [f"fact {name}: bool" for name in BOOLS]
    out += [f"fact {name}: integer in {lo}..{hi}" for name, (lo, hi) in INTEGERS.items()]
    out += [f"fact {name}: number in {lo}..{hi}" for name, (lo, hi) in NUMBERS.items()]
    out += [f"derived {name}: enum {{{', '.join(v)}}}" for name, v in DERIVED.items()]
    facts = [*ENUMS, *BOOLS, *INTEGERS, *NUMBERS]
    non_dx = [f for f in facts if f != "diagnosis"]
    ids: list[str] = []
    recommends: list[str] = []
    body: list[str] = []

    def rule(rule_id: str, when: str, conclusion: str, extra: str = "") -> None:
        body.append(
            f'  rule {rule_id} {{\n    statement "Generated statement {rule_id}." '
            f"evidence 1\n    when {when}\n    {conclusion}{extra}\n  }}"
        )
        ids.append(rule_id)

    # Derivations first: each derived value by one rule, exclusive through `stage`/`csf`.
    for index, value in enumerate(DERIVED["risk"]):
        stage = ENUMS["stage"][index]
        rule(
            f"derive.risk.{value}",
            f"stage == {stage} and {_test(rng, 'sign_0')}",
            f"derive risk = {value}",
        )
    for index, value in enumerate(DERIVED["phase"]):
        csf = ENUMS["csf"][index]
        rule(f"derive.phase.{value}", f"csf == {csf}", f"derive phase = {value}")
    for n in range(rules - len(ids)):
        rule_id = f"g.r{n}"
        picked = rng.sample(non_dx, k=rng.randint(1, 3))
        tests = [_test(rng, f) for f in picked]
        if rng.random() < 0.3 and len(tests) >= 2:
            tests = [f"({tests[0]} or {tests[1]})", *tests[2:]]
        if rng.random() < 0.08:
            tests.append(f"risk == {rng.choice(DERIVED['risk'])}")
        elif rng.random() < 0.05:
            tests.append(f"phase == {rng.choice(DERIVED['phase'])}")
        if rng.random() < 0.85:
            tests.insert(0, f"diagnosis == {rng.choice(ENUMS['diagnosis'])}")
        extra = ""
        if recommends and rng.random() < 0.1:
            extra += f"\n    after {rng.choice(recommends[-20:])}"
        elif recommends and rng.random() < 0.034:
            extra += f"\n    overrides {rng.choice(recommends[-20:])}"
        if rng.random() < 0.9:
            conclusion = f'recommend "Action {n}" strength recommended'
            recommends.append(rule_id)
        else:
            conclusion = "note"
        rule(rule_id, " and ".join(tests), conclusion, extra)
    out.append('section "Generated" {')
    out += body
    out.append("}")
    return "\n".join(out) + "\n"


def patients(
    policy: m.Policy, n: int, seed: int = 7, unknown: float = 0.25
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found: list[dict[str, Any]] = []
    while len(found) < n:
        patient: dict[str, Any] = {}
        for fact in policy.input_facts:
            if rng.random() < unknown:
                continue
            kind = fact.type.kind
            if kind == "bool":
                patient[fact.name] = rng.random() < 0.5
            elif kind == "enum":
                patient[fact.name] = rng.choice(fact.type.values)
            elif kind == "integer":
                low, high = fact.type.minimum, fact.type.maximum
                patient[fact.name] = rng.randint(int(low or 0), int(high or 100))
            elif kind == "number":
                low_f, high_f = fact.type.minimum or 0.0, fact.type.maximum or 10.0
                patient[fact.name] = round(rng.uniform(low_f, high_f), 2)
        if not _contradictory(policy, patient):
            found.append(patient)
    return found


def _contradictory(policy: m.Policy, patient: Mapping[str, Any]) -> bool:
    return any(
        logic.evaluate(c.when, patient) is True and logic.evaluate(c.require, patient) is False
        for c in policy.constraints
    )


# --- the hand-style function -----------------------------------------------------------------


class _Writer:
    """Two-valued code for Kleene conditions: T(e) is true iff e is definitely true."""

    def __init__(self, policy: m.Policy) -> None:
        self.policy = policy
        self.var = {name: f"v{i}" for i, name in enumerate(policy.facts)}

    def leaf(self, node: m.Expr, positive: bool) -> str:
        match node:
            case m.Const(value=value):
                return "True" if value == positive else "False"
            case m.Compare(fact=name, op=op, value=value):
                v = self.var[name]
                fact = self.policy.facts[name]
                if fact.type.kind == "bool" and op == "==":
                    return f"{v} is {value == positive}"
                if op == "==":
                    return (
                        f"{v} == {value!r}"
                        if positive
                        else f"({v} is not None and {v} != {value!r})"
                    )
                if op == "!=":
                    return (
                        f"({v} is not None and {v} != {value!r})"
                        if positive
                        else f"{v} == {value!r}"
                    )
                flipped = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
                used = op if positive else flipped[op]
                return f"({v} is not None and {v} {used} {value!r})"
            case m.Member(fact=name, values=values, negated=negated):
                v = self.var[name]
                inside = "(" + ", ".join(repr(x) for x in values) + ",)"
                if positive != negated:
                    return f"{v} in {inside}"
                return f"({v} is not None and {v} not in {inside})"
            case m.Known(fact=name, known=known):
                v = self.var[name]
                return f"{v} is not None" if known == positive else f"{v} is None"
        raise ValueError(f"the hand-style writer does not handle {node!r}")

    def expr(self, node: m.Expr, positive: bool = True) -> str:
        match node:
            case m.And(items=items) | m.Or(items=items):
                conjunction = isinstance(node, m.And) == positive
                word = " and " if conjunction else " or "
                return "(" + word.join(self.expr(i, positive) for i in items) + ")"
            case m.Not(item=item):
                return self.expr(item, not positive)
        return self.leaf(node, positive)


def handstyle_source(policy: m.Policy) -> str:
    """Python source of `decide(facts) -> frozenset[str]` for a policy over bool, enum, integer
    and number facts (derived facts, `after` and `overrides` included)."""
    writer = _Writer(policy)
    rules = {r.id: r for r in policy.rules}
    index = {r.id: i for i, r in enumerate(policy.rules)}
    overridden_by: dict[str, list[str]] = {}
    for r in policy.rules:
        for target in r.overrides:
            overridden_by.setdefault(target, []).append(r.id)
    derivers: dict[str, list[m.Rule]] = {}
    for r in policy.rules:
        if isinstance(r.conclusion, m.Derive):
            derivers.setdefault(r.conclusion.fact, []).append(r)
    need_false = {o for r in policy.rules for o in overridden_by.get(r.id, ())}
    need_false |= {r.id for rs in derivers.values() for r in rs}
    pending = list(need_false)
    while pending:  # "definitely not fired" of a rule needs that of the rules it comes after
        for p in rules[pending.pop()].after:
            if p not in need_false:
                need_false.add(p)
                pending.append(p)
    lines = ["def decide(facts):", "    g = facts.get"]
    lines += [f"    {writer.var[f.name]} = g({f.name!r})" for f in policy.input_facts]
    done: set[str] = set()
    done_facts: set[str] = set()

    def emit_fact(name: str) -> None:
        if name in done_facts:
            return
        done_facts.add(name)
        for r in derivers.get(name, []):
            emit_rule(r.id)
        branches = []
        values: dict[object, list[str]] = {}
        for r in derivers.get(name, []):
            assert isinstance(r.conclusion, m.Derive)
            values.setdefault(r.conclusion.value, []).append(r.id)
        for value, members in values.items():
            fired = " or ".join(f"t{index[x]}" for x in members)
            others = [f"f{index[x]}" for v, xs in values.items() if v != value for x in xs]
            test = f"({fired})" + "".join(f" and {o}" for o in others)
            branches.append(f"{value!r} if {test} else")
        lines.append(f"    {writer.var[name]} = {' '.join(branches)} None")

    def emit_rule(rule_id: str) -> None:
        if rule_id in done:
            return
        rule = rules[rule_id]
        for name in m.expr_facts(rule.when):
            if policy.facts[name].derived:
                emit_fact(name)
        for other in (*rule.after, *overridden_by.get(rule_id, ())):
            emit_rule(other)
        done.add(rule_id)
        i = index[rule_id]
        t_parts = [writer.expr(rule.when, True)] + [f"t{index[p]}" for p in rule.after]
        t_parts += [f"f{index[o]}" for o in overridden_by.get(rule_id, ())]
        lines.append(f"    t{i} = " + " and ".join(t_parts))
        if rule_id in need_false:
            f_parts = [writer.expr(rule.when, False)] + [f"f{index[p]}" for p in rule.after]
            f_parts += [f"t{index[o]}" for o in overridden_by.get(rule_id, ())]
            lines.append(f"    f{i} = " + " or ".join(f_parts))

    for r in policy.rules:
        if r.kind != "derive":
            emit_rule(r.id)
    lines.append("    out = []")
    for r in policy.rules:
        if r.kind != "derive":
            lines.append(f"    if t{index[r.id]}: out.append({r.id!r})")
    lines.append("    return frozenset(out)")
    return "\n".join(lines) + "\n"


def handstyle_function(policy: m.Policy) -> Callable[[Mapping[str, Any]], frozenset[str]]:
    namespace: dict[str, Any] = {}
    exec(compile(handstyle_source(policy), "<hand-style decide>", "exec"), namespace)
    function: Callable[[Mapping[str, Any]], frozenset[str]] = namespace["decide"]
    return function
