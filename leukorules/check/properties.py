"""Properties -> model: a claim's fact tests type-checked, its outcome tests resolved.

Input: the `property` blocks of the syntax tree, after every rule, gap and constraint of the
policy is resolved into the `Draft`. Output: `m.Property`s in `draft.properties` (a property with
an error is left out) and the diagnostics: an id used twice, an outcome test of something that
is not a declared rule, and every problem a `when` condition could have. A claim's parts that
test facts only become ordinary conditions (`m.Expr`, parentheses dropped, `and`/`or`
flattened); the parts that test outcomes become claim nodes. The facts a property reads are not
counted as used: a fact no rule reads is unused whatever the properties say about it.
"""

from __future__ import annotations

from typing import TypeGuard

from leukorules import messages as msg
from leukorules import model as m
from leukorules.check.conditions import Conditions
from leukorules.check.draft import Draft
from leukorules.diagnostics import Diagnostic, Related, did_you_mean
from leukorules.source import Span
from leukorules.syntax import ast


class Properties:
    """Resolves `property` blocks into `draft.properties`, reporting into `diagnostics`."""

    def __init__(self, draft: Draft, diagnostics: list[Diagnostic]) -> None:
        self.draft = draft
        self.diagnostics = diagnostics
        self.conditions = Conditions(draft, diagnostics, counts_uses=False)
        self._ids: dict[str, Span] = {}

    def property(self, block: ast.PropertyBlock) -> None:
        name = block.id
        first = self._ids.get(name.name)
        if first is not None:
            related = [Related(first, "first declared here")]
            self.diagnostics.append(
                msg.PROPERTY_ID_TWICE.at(name.span, id=name.name, related=related)
            )
        else:
            self._ids[name.name] = name.span
        claim = self.claim(block.claim)
        if claim is not None and first is None:
            self.draft.properties.append(m.Property(name.name, block.text.value, claim, name.span))

    def claim(self, node: ast.Claim) -> m.Claim | None:
        """The model of a claim, or None when it has an error (every error is reported)."""
        match node:
            case ast.ClaimParen(item=item):
                return self.claim(item)
            case ast.ClaimAnd(items=items) | ast.ClaimOr(items=items):
                parts = [self.claim(item) for item in items]
                if any(part is None for part in parts):
                    return None
                both = isinstance(node, ast.ClaimAnd)
                return joined_claim(both, [p for p in parts if p is not None], node.span)
            case ast.ClaimNot(item=item):
                inner = self.claim(item)
                if inner is None:
                    return None
                if _is_condition(inner):
                    return m.Not(inner, node.span)
                return m.Negation(inner, node.span)
            case ast.ImpliesExpr(premise=premise, conclusion=conclusion):
                first, second = self.claim(premise), self.claim(conclusion)
                if first is None or second is None:
                    return None
                return m.Implies(first, second, node.span)
            case ast.OutcomeExpr(rule=rule, outcome=outcome):
                return self.outcome(rule, outcome, node.span)
        return self.conditions.expr(node)

    def outcome(self, rule: ast.Name, outcome: m.OutcomeName, span: Span) -> m.Claim | None:
        draft = self.draft
        others = {g.id: "gap" for g in draft.gaps} | {c.id: "constraint" for c in draft.constraints}
        if rule.name in others:
            self.diagnostics.append(
                msg.OUTCOME_OF_A_NON_RULE.at(rule.span, name=rule.name, block=others[rule.name])
            )
            return None
        if rule.name not in draft.rule_ids:
            rules = [r for r in draft.rule_ids if r not in others]
            self.diagnostics.append(
                msg.OUTCOME_OF_AN_UNDECLARED_RULE.at(
                    rule.span, name=rule.name, hint=did_you_mean(rule.name, rules)
                )
            )
            return None
        return m.RuleOutcome(rule.name, outcome, span)


_CONDITIONS = (
    *(m.Const, m.Compare, m.CompareFacts, m.Member, m.Contains, m.Known),
    *(m.And, m.Or, m.Not),
)


def _is_condition(claim: m.Claim) -> TypeGuard[m.Expr]:
    return isinstance(claim, _CONDITIONS)


def joined_claim(both: bool, parts: list[m.Claim], span: Span | None) -> m.Claim:
    """`and` (both) or `or` of claims: a condition when every part is one, else a claim node;
    nested ones of the same kind (condition or claim) flattened, so that a claim has one
    model however it was parenthesised."""
    kind: type[m.And] | type[m.Or] = m.And if both else m.Or
    conditions = [p for p in parts if _is_condition(p)]
    if len(conditions) == len(parts):
        flat: list[m.Expr] = []
        for condition in conditions:
            flat.extend(condition.items if isinstance(condition, kind) else (condition,))
        return kind(tuple(flat), span)
    claim_kind: type[m.AllOf] | type[m.AnyOf] = m.AllOf if both else m.AnyOf
    items: list[m.Claim] = []
    for part in parts:
        items.extend(part.items if isinstance(part, kind | claim_kind) else (part,))
    return claim_kind(tuple(items), span)
