"""The same rules in peer engines: cedarpy (Cedar), zen-engine (GoRules ZEN), rule-engine and
JsonLogic (json-logic-qubit; see PEERS.md for why not the `json-logic` package).

None of the peers has three-valued logic, `after`, `overrides` or derived facts, so every rule is
translated into the two-valued formula "this rule definitely fires" over the input facts, with
unknown facts written as explicit presence tests: T(a and b) = T(a) and T(b), T(not a) = F(a),
T(x >= 5) = x is known and x >= 5, and so on; `after p` adds T(p), `overrides` adds F(o) for
every overrider o, a derived fact's value v is "some rule deriving v definitely fired and every
rule deriving another value definitely did not". The translation is exact (the benchmark checks
each peer against leukorules on every patient before timing it); what it costs in formula size
is part of what the benchmark shows. Each peer answers `decide`: the fired recommend/note rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leukorules import model as m

# --- two-valued formulas over input facts ------------------------------------------------------
# ("and", [f...]) ("or", [f...]) ("const", bool) ("is", fact, bool) ("eq", fact, v)
# ("ne", fact, v) ("in", fact, values) ("notin", fact, values) ("cmp", fact, op, v)
# ("known", fact) ("unknown", fact); every test but "eq"/"in"/"unknown" implies "known".
Formula = tuple[Any, ...]
FLIP = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _and(items: list[Formula]) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if item == ("const", False):
            return item
        if item == ("const", True):
            continue
        flat.extend(item[1] if item[0] == "and" else [item])
    return ("const", True) if not flat else flat[0] if len(flat) == 1 else ("and", flat)


def _or(items: list[Formula]) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if item == ("const", True):
            return item
        if item == ("const", False):
            continue
        flat.extend(item[1] if item[0] == "or" else [item])
    return ("const", False) if not flat else flat[0] if len(flat) == 1 else ("or", flat)


class Translator:
    def __init__(self, policy: m.Policy) -> None:
        self.policy = policy
        self.rules = {r.id: r for r in policy.rules}
        self.overridden_by: dict[str, list[str]] = {}
        for r in policy.rules:
            for target in r.overrides:
                self.overridden_by.setdefault(target, []).append(r.id)
        self.derivers: dict[str, list[m.Rule]] = {}
        for r in policy.rules:
            if isinstance(r.conclusion, m.Derive):
                self.derivers.setdefault(r.conclusion.fact, []).append(r)
        self._memo: dict[tuple[str, bool], Formula] = {}

    def fired(self, rule_id: str, positive: bool = True) -> Formula:
        """T(effective fired) or, with positive=False, F(effective fired)."""
        key = (rule_id, positive)
        if key not in self._memo:
            rule = self.rules[rule_id]
            when = self.expr(rule.when, positive)
            after = [self.fired(p, positive) for p in rule.after]
            beaten = [self.fired(o, not positive) for o in self.overridden_by.get(rule_id, ())]
            if positive:
                self._memo[key] = _and([when, *after, *beaten])
            else:
                self._memo[key] = _or([when, *after, *beaten])
        return self._memo[key]

    def derived_is(self, name: str, value: object) -> Formula:
        same = [r for r in self.derivers.get(name, []) if r.conclusion.value == value]  # type: ignore[union-attr]
        other = [r for r in self.derivers.get(name, []) if r.conclusion.value != value]  # type: ignore[union-attr]
        return _and(
            [_or([self.fired(r.id) for r in same]), *[self.fired(r.id, False) for r in other]]
        )

    def derived_values(self, name: str) -> list[object]:
        return list(dict.fromkeys(r.conclusion.value for r in self.derivers.get(name, [])))  # type: ignore[union-attr]

    def leaf(self, node: m.Expr, positive: bool) -> Formula:
        match node:
            case m.Const(value=value):
                return ("const", value == positive)
            case m.Compare(fact=name, op=op, value=value) if self.policy.facts[name].derived:
                values = self.derived_values(name)
                if op == "==":
                    chosen = [value] if positive else [v for v in values if v != value]
                else:
                    chosen = [v for v in values if v != value] if positive else [value]
                return _or([self.derived_is(name, v) for v in chosen])
            case m.Member(fact=name, values=values, negated=negated) if self.policy.facts[
                name
            ].derived:
                inside = positive != negated
                chosen = [v for v in self.derived_values(name) if (v in values) == inside]
                return _or([self.derived_is(name, v) for v in chosen])
            case m.Known(fact=name, known=known) if self.policy.facts[name].derived:
                anything = _or([self.derived_is(name, v) for v in self.derived_values(name)])
                if known == positive:
                    return anything
                raise ValueError("`is unknown` of a derived fact is not translated")
            case m.Compare(fact=name, op=op, value=value):
                if self.policy.facts[name].type.kind == "bool" and op in ("==", "!="):
                    return ("is", name, (value == positive) == (op == "=="))
                if op == "==":
                    return ("eq", name, value) if positive else ("ne", name, value)
                if op == "!=":
                    return ("ne", name, value) if positive else ("eq", name, value)
                return ("cmp", name, op if positive else FLIP[op], value)
            case m.Member(fact=name, values=values, negated=negated):
                return ("in" if positive != negated else "notin", name, tuple(values))
            case m.Known(fact=name, known=known):
                return ("known" if known == positive else "unknown", name)
        raise ValueError(f"not translated for peers: {node!r}")

    def expr(self, node: m.Expr, positive: bool = True) -> Formula:
        match node:
            case m.And(items=items) | m.Or(items=items):
                parts = [self.expr(i, positive) for i in items]
                return _and(parts) if isinstance(node, m.And) == positive else _or(parts)
            case m.Not(item=item):
                return self.expr(item, not positive)
        return self.leaf(node, positive)

    def decisions(self) -> list[tuple[str, Formula]]:
        """(rule id, T(fired)) for every rule `decide` reports."""
        return [(r.id, self.fired(r.id)) for r in self.policy.rules if r.kind != "derive"]


def formula_size(formula: Formula) -> int:
    if formula[0] in ("and", "or"):
        return 1 + sum(formula_size(f) for f in formula[1])
    return 1


# --- emitters ------------------------------------------------------------------------------------


def to_jsonlogic(f: Formula) -> Any:
    kind = f[0]
    if kind == "const":
        return bool(f[1])
    if kind in ("and", "or"):
        return {kind: [to_jsonlogic(x) for x in f[1]]}
    var = {"var": f[1]}
    known = {"!==": [var, None]}
    if kind == "is":
        return {"===": [var, f[2]]}
    if kind == "eq":
        return {"===": [var, f[2]]}
    if kind == "ne":
        return {"and": [known, {"!==": [var, f[2]]}]}
    if kind == "in":
        return {"in": [var, list(f[2])]}
    if kind == "notin":
        return {"and": [known, {"!": {"in": [var, list(f[2])]}}]}
    if kind == "cmp":
        return {"and": [known, {f[2]: [var, f[3]]}]}
    if kind == "known":
        return known
    return {"===": [var, None]}


def _lit(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def to_expression(f: Formula, dialect: str) -> str:
    """rule-engine and ZEN share this expression syntax (and/or/not, ==, in [...], null)."""
    kind = f[0]
    if kind == "const":
        return "true" if f[1] else "false"
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(to_expression(x, dialect) for x in f[1]) + ")"
    name = f[1]
    known = f"{name} != null"
    if kind == "is":
        return f"{name} == {_lit(f[2])}"
    if kind == "eq":
        return f"{name} == {_lit(f[2])}"
    if kind == "ne":
        return f"({known} and {name} != {_lit(f[2])})"
    values = "[" + ", ".join(_lit(v) for v in f[2]) + "]" if kind in ("in", "notin") else ""
    if kind == "in":
        return f"{name} in {values}"
    if kind == "notin":
        return f"({known} and not ({name} in {values}))"
    if kind == "cmp":
        return f"({known} and {name} {f[2]} {_lit(f[3])})"
    if kind == "known":
        return known
    return f"{name} == null"


def to_cedar(f: Formula, kinds: Mapping[str, str]) -> str:
    kind = f[0]
    if kind == "const":
        return "true" if f[1] else "false"
    if kind in ("and", "or"):
        word = " && " if kind == "and" else " || "
        return "(" + word.join(to_cedar(x, kinds) for x in f[1]) + ")"
    name = f[1]
    has = f"context has {name}"
    attr = f"context.{name}"
    if kind == "known":
        return has
    if kind == "unknown":
        return f"!({has})"
    if kind in ("in", "notin"):
        values = "[" + ", ".join(_lit(v) for v in f[2]) + "]"
        test = f"{values}.contains({attr})"
        return f"({has} && {test})" if kind == "in" else f"({has} && !{test})"
    value = f[3] if kind == "cmp" else f[2]
    if kinds[name] == "number":
        method = {
            "<": "lessThan",
            "<=": "lessThanOrEqual",
            ">": "greaterThan",
            ">=": "greaterThanOrEqual",
        }
        number = f'decimal("{float(value):.4f}")'
        if kind == "cmp":
            return f"({has} && {attr}.{method[f[2]]}({number}))"
        op = "==" if kind == "eq" else "!="
        return f"({has} && {attr} {op} {number})"
    if kind == "cmp":
        return f"({has} && {attr} {f[2]} {_lit(value)})"
    op = "!=" if kind == "ne" else "=="
    return f"({has} && {attr} {op} {_lit(value)})"


# --- peers ---------------------------------------------------------------------------------------


@dataclass
class Peer:
    name: str
    version: str
    decide: Callable[[Mapping[str, Any]], frozenset[str]]
    decide_many: Callable[[Sequence[Mapping[str, Any]]], list[frozenset[str]]] | None = None
    note: str = ""


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def build_jsonlogic(decisions: list[tuple[str, Formula]]) -> Peer:
    from json_logic import jsonLogic

    # One JsonLogic rule per guideline rule, evaluated in turn (JsonLogic has no rule set).
    compiled = [(rule_id, to_jsonlogic(f)) for rule_id, f in decisions]

    def decide(facts: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(rule_id for rule_id, logic in compiled if jsonLogic(logic, facts) is True)

    return Peer("json-logic-qubit", _version("json-logic-qubit"), decide)


def build_rule_engine(decisions: list[tuple[str, Formula]]) -> Peer:
    import rule_engine

    context = rule_engine.Context(default_value=None)
    compiled = [
        (rule_id, rule_engine.Rule(to_expression(f, "rule_engine"), context=context))
        for rule_id, f in decisions
    ]

    def decide(facts: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(rule_id for rule_id, rule in compiled if rule.matches(facts))

    return Peer("rule-engine", _version("rule-engine"), decide)


def build_zen(decisions: list[tuple[str, Formula]]) -> Peer:
    import zen

    # One decision graph: input -> one expression node computing every rule -> output.
    keys = {f"r{i}": rule_id for i, (rule_id, _) in enumerate(decisions)}
    expressions = [
        {"id": f"e{i}", "key": f"r{i}", "value": to_expression(f, "zen")}
        for i, (_, f) in enumerate(decisions)
    ]
    content = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {
                "id": "rules",
                "type": "expressionNode",
                "name": "rules",
                "position": {"x": 0, "y": 0},
                "content": {"expressions": expressions},
            },
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "a", "sourceId": "in", "targetId": "rules", "type": "edge"},
            {"id": "b", "sourceId": "rules", "targetId": "out", "type": "edge"},
        ],
    }
    decision = zen.ZenEngine().create_decision(json.dumps(content))

    def decide(facts: Mapping[str, Any]) -> frozenset[str]:
        result = decision.evaluate(dict(facts))["result"]
        return frozenset(keys[k] for k, v in result.items() if v is True)

    return Peer("zen-engine", _version("zen-engine"), decide)


def build_cedar(decisions: list[tuple[str, Formula]], policy: m.Policy) -> Peer:
    import cedarpy

    kinds = {f.name: f.type.kind for f in policy.facts.values()}
    texts = [
        f"permit(principal, action, resource) when {{ {to_cedar(f, kinds)} }};"
        for _, f in decisions
    ]
    policies = "\n".join(texts)
    ids = {f"policy{i}": rule_id for i, (rule_id, _) in enumerate(decisions)}

    def request(facts: Mapping[str, Any]) -> dict[str, Any]:
        context = {}
        for name, value in facts.items():
            if kinds.get(name) == "number":
                value = {"__extn": {"fn": "decimal", "arg": f"{float(value):.4f}"}}
            context[name] = value
        return {
            "principal": 'Patient::"p"',
            "action": 'Action::"decide"',
            "resource": 'Guideline::"g"',
            "context": context,
        }

    def decide(facts: Mapping[str, Any]) -> frozenset[str]:
        result = cedarpy.is_authorized(request(facts), policies, [])
        return frozenset(ids[p] for p in result.diagnostics.reasons)

    def decide_many(patients: Sequence[Mapping[str, Any]]) -> list[frozenset[str]]:
        results = cedarpy.is_authorized_batch([request(p) for p in patients], policies, [])
        return [frozenset(ids[p] for p in r.diagnostics.reasons) for r in results]

    return Peer("cedarpy", _version("cedarpy"), decide, decide_many)


BUILDERS = {
    "cedarpy": lambda d, p: build_cedar(d, p),
    "zen-engine": lambda d, p: build_zen(d),
    "rule-engine": lambda d, p: build_rule_engine(d),
    "json-logic": lambda d, p: build_jsonlogic(d),
}
