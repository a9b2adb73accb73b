"""A property's claim evaluated for one patient whose outcomes are known (no solver).

Input: a claim (`model.Claim`), the patient's facts as rules read them (input facts and the
derived facts' values; absent is unknown) and each rule's outcome. Output: the claim's truth, by
the meaning `leukorules.prove.encoding` gives it: Kleene logic for conditions and `not`, `and`,
`or`; an outcome test is true or false; `implies` is true unless the premise is true and the
conclusion is not. Also: the rules and facts a claim reads (for reports and scenario files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from leukorules import model as m
from leukorules.logic import Truth, evaluate, kleene_and, kleene_not, kleene_or


def claim_truth(
    claim: m.Claim, values: Mapping[str, object], outcome: Callable[[str], m.OutcomeName]
) -> Truth:
    """The truth of `claim` for a patient with these fact values and rule outcomes."""
    match claim:
        case m.RuleOutcome(rule=rule, outcome=expected):
            return outcome(rule) == expected
        case m.AllOf(items=items):
            return kleene_and([claim_truth(i, values, outcome) for i in items])
        case m.AnyOf(items=items):
            return kleene_or([claim_truth(i, values, outcome) for i in items])
        case m.Negation(item=item):
            return kleene_not(claim_truth(item, values, outcome))
        case m.Implies(premise=premise, conclusion=conclusion):
            if claim_truth(premise, values, outcome) is not True:
                return True
            return claim_truth(conclusion, values, outcome) is True
    return evaluate(claim, values)


def claim_parts(claim: m.Claim) -> Iterator[m.Claim]:
    """Every node of a claim, the claim first."""
    stack: list[m.Claim] = [claim]
    while stack:
        node = stack.pop()
        yield node
        match node:
            case (
                m.AllOf(items=items) | m.AnyOf(items=items) | m.And(items=items) | m.Or(items=items)
            ):
                stack.extend(reversed(items))
            case m.Negation(item=item) | m.Not(item=item):
                stack.append(item)
            case m.Implies(premise=premise, conclusion=conclusion):
                stack.extend((conclusion, premise))


def rules_read(claim: m.Claim) -> list[str]:
    """The rules whose outcomes a claim tests, in reading order, each once."""
    return list(dict.fromkeys(n.rule for n in claim_parts(claim) if isinstance(n, m.RuleOutcome)))


def facts_read(claim: m.Claim) -> list[str]:
    """The facts (input or derived) a claim tests directly, in reading order, each once."""
    found: list[str] = []
    for node in claim_parts(claim):
        if isinstance(node, m.Compare | m.Member | m.Contains | m.Known):
            found.append(node.fact)
        elif isinstance(node, m.CompareFacts):
            found.extend((node.left, node.right))
    return list(dict.fromkeys(found))
