"""The compiled evaluator, construct by construct: Kleene truth tables, every condition form,
`after`, `overrides`, derived facts, missing facts, because/chain, gaps, ordering, trace."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import facts_for, policies
from support.policies import HEADER, checked_rules, compiled_rules, rule
from support.profiles import examples

from leukorules import logic
from leukorules import model as m
from leukorules.check import check_paths
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.values import facts_sha256

T, F, U = True, False, None
OUTCOME = {T: "fired", F: "not_fired", U: "undetermined"}


def outcome(policy: CompiledPolicy, rule_id: str, facts: dict[str, object]) -> str:
    return policy.evaluate(facts).outcomes[rule_id]


def facts_of(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


# --- the three-valued truth tables, row by row ------------------------------------------------

TWO_BOOLS = "fact a: bool\nfact b: bool\n"
TABLES = compiled_rules(
    TWO_BOOLS
    + rule("t.and", "a and b")
    + rule("t.or", "a or b")
    + rule("t.not", "not a")
    + rule("t.nested", "not (a and not b) or (a or b) and not a")
)

AND_TABLE = [
    (T, T, T), (T, F, F), (T, U, U),
    (F, T, F), (F, F, F), (F, U, F),
    (U, T, U), (U, F, F), (U, U, U),
]  # fmt: skip
OR_TABLE = [
    (T, T, T), (T, F, T), (T, U, T),
    (F, T, T), (F, F, F), (F, U, U),
    (U, T, T), (U, F, U), (U, U, U),
]  # fmt: skip
NOT_TABLE = [(T, F), (F, T), (U, U)]


@pytest.mark.parametrize(("a", "b", "expected"), AND_TABLE)
def test_and_truth_table(a: bool | None, b: bool | None, expected: bool | None) -> None:
    assert outcome(TABLES, "t.and", facts_of(a=a, b=b)) == OUTCOME[expected]
    assert logic.kleene_and([a, b]) is expected  # the same table as the reference semantics


@pytest.mark.parametrize(("a", "b", "expected"), OR_TABLE)
def test_or_truth_table(a: bool | None, b: bool | None, expected: bool | None) -> None:
    assert outcome(TABLES, "t.or", facts_of(a=a, b=b)) == OUTCOME[expected]
    assert logic.kleene_or([a, b]) is expected


@pytest.mark.parametrize(("a", "expected"), NOT_TABLE)
def test_not_truth_table(a: bool | None, expected: bool | None) -> None:
    assert outcome(TABLES, "t.not", facts_of(a=a)) == OUTCOME[expected]
    assert logic.kleene_not(a) is expected


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, U], repeat=2)))
def test_nested_condition_agrees_with_logic_module(a: bool | None, b: bool | None) -> None:
    facts = facts_of(a=a, b=b)
    expected = logic.evaluate(TABLES.policy.rule("t.nested").when, facts)
    assert outcome(TABLES, "t.nested", facts) == OUTCOME[expected]


def test_n_ary_junctions_short_circuit_only_on_the_deciding_value() -> None:
    policy = compiled_rules(
        "fact a: bool\nfact b: bool\nfact c: bool\n"
        + rule("n.and", "a and b and c")
        + rule("n.or", "a or b or c")
    )
    # an unknown first operand does not hide a later false (and) or true (or)
    assert outcome(policy, "n.and", {"b": True, "c": False}) == "not_fired"
    assert outcome(policy, "n.or", {"b": False, "c": True}) == "fired"
    assert outcome(policy, "n.and", {"a": True, "b": True}) == "undetermined"
    assert outcome(policy, "n.or", {"a": False, "c": False}) == "undetermined"


# --- every condition form ------------------------------------------------------------------

FORMS_POLICY = checked_rules(
    """\
fact age: integer in 0..120
fact wbc: number [10^9/L] in 0..500
fact onset: date
fact seen: date
fact sex: enum {female, male}
fact name: string
fact flag: bool
fact symptoms: set of {headache, seizure, ataxia}
fact lower: number [10^9/L]
"""
    + rule("f.int.eq", "age == 65")
    + rule("f.int.ne", "age != 65")
    + rule("f.int.lt", "age < 65")
    + rule("f.int.le", "age <= 65")
    + rule("f.int.gt", "age > 65")
    + rule("f.int.ge", "age >= 65")
    + rule("f.num.gt", "wbc > 10.5 [10^9/L]")
    + rule("f.date.lt", "onset < 2024-01-01")
    + rule("f.enum.eq", "sex == female")
    + rule("f.enum.ne", "sex != female")
    + rule("f.str.eq", 'name == "O\'Brien \\"Jr\\""')
    + rule("f.bool.false", "flag == false")
    + rule("f.bool.bare", "flag")
    + rule("f.member", "age in {1, 65}")
    + rule("f.not.member", "sex not in {male}")
    + rule("f.contains", "symptoms contains seizure")
    + rule("f.unknown", "age is unknown")
    + rule("f.facts.le", "onset <= seen")
    + rule("f.facts.num", "lower < wbc")
)
# `age is known` alone is refused by the checker today (its satisfiability search prunes on
# "false", which `is known` can turn into "true"), so that rule is added to the model by hand.
FORMS = compile_policy(
    dataclasses.replace(
        FORMS_POLICY,
        rules=(
            *FORMS_POLICY.rules,
            m.Rule("f.known", "Known.", ("1",), m.Known("age", True), m.StateNote("note")),
        ),
    )
)


DAY1, DAY2 = datetime.date(2020, 1, 1), datetime.date(2020, 1, 2)


@pytest.mark.parametrize(
    ("rule_id", "facts", "expected"),
    [
        ("f.int.eq", {"age": 65}, "fired"),
        ("f.int.eq", {"age": 64}, "not_fired"),
        ("f.int.ne", {"age": 64}, "fired"),
        ("f.int.ne", {"age": 65}, "not_fired"),
        ("f.int.lt", {"age": 64}, "fired"),
        ("f.int.lt", {"age": 65}, "not_fired"),
        ("f.int.le", {"age": 65}, "fired"),
        ("f.int.le", {"age": 66}, "not_fired"),
        ("f.int.gt", {"age": 66}, "fired"),
        ("f.int.gt", {"age": 65}, "not_fired"),
        ("f.int.ge", {"age": 65}, "fired"),
        ("f.int.ge", {"age": 64}, "not_fired"),
        ("f.num.gt", {"wbc": 10.6}, "fired"),
        ("f.num.gt", {"wbc": 10.5}, "not_fired"),
        ("f.date.lt", {"onset": datetime.date(2023, 12, 31)}, "fired"),
        ("f.date.lt", {"onset": datetime.date(2024, 1, 1)}, "not_fired"),
        ("f.enum.eq", {"sex": "female"}, "fired"),
        ("f.enum.eq", {"sex": "male"}, "not_fired"),
        ("f.enum.ne", {"sex": "male"}, "fired"),
        ("f.str.eq", {"name": "O'Brien \"Jr\""}, "fired"),
        ("f.str.eq", {"name": "O'Brien"}, "not_fired"),
        ("f.bool.false", {"flag": False}, "fired"),
        ("f.bool.false", {"flag": True}, "not_fired"),
        ("f.bool.bare", {"flag": True}, "fired"),
        ("f.bool.bare", {"flag": False}, "not_fired"),
        ("f.member", {"age": 65}, "fired"),
        ("f.member", {"age": 2}, "not_fired"),
        ("f.not.member", {"sex": "female"}, "fired"),
        ("f.not.member", {"sex": "male"}, "not_fired"),
        ("f.contains", {"symptoms": frozenset({"seizure", "ataxia"})}, "fired"),
        ("f.contains", {"symptoms": frozenset()}, "not_fired"),
        ("f.known", {"age": 3}, "fired"),
        ("f.known", {}, "not_fired"),
        ("f.unknown", {}, "fired"),
        ("f.unknown", {"age": 3}, "not_fired"),
        ("f.facts.le", {"onset": DAY1, "seen": DAY1}, "fired"),
        ("f.facts.le", {"onset": DAY2, "seen": DAY1}, "not_fired"),
        ("f.facts.le", {"onset": DAY2}, "undetermined"),
        ("f.facts.le", {"seen": DAY2}, "undetermined"),
        ("f.facts.num", {"lower": 1, "wbc": 2.5}, "fired"),
        ("f.facts.num", {"lower": 3.0, "wbc": 2.5}, "not_fired"),
    ],
)  # fmt: skip
def test_condition_forms(rule_id: str, facts: dict[str, object], expected: str) -> None:
    assert outcome(FORMS, rule_id, facts) == expected
    truth = logic.evaluate(FORMS.policy.rule(rule_id).when, facts)
    assert OUTCOME[truth] == expected


def test_every_test_of_an_unknown_fact_is_undetermined_except_knownness() -> None:
    ev = FORMS.evaluate({})
    for rule_id, result in ev.outcomes.items():
        if rule_id == "f.known":
            assert result == "not_fired"
        elif rule_id == "f.unknown":
            assert result == "fired"
        else:
            assert result == "undetermined", rule_id  # `not in` of an unknown is not true


def test_a_rule_without_condition_always_fires_and_false_never_does() -> None:
    policy = compiled_rules(rule("always", None, 'recommend "Care"'))
    assert policy.decide({}) == {"always"}
    hand = m.Policy(
        id="p",
        title="P",
        version="1",
        evidence={"1": m.Evidence("1", "c")},
        rules=(m.Rule("never", "s", ("1",), m.Const(False), m.StateNote("note")),),
    )
    assert compile_policy(hand).evaluate({}).outcomes == {"never": "not_fired"}


# --- after and overrides ----------------------------------------------------------------------

SEQUENCE = compiled_rules(
    "fact a: bool\nfact b: bool\nfact c: bool\nfact stop: bool\n"
    + 'section "Treatment" {\n'
    + rule("first", "a", 'recommend "First line"\n  strength first_line')
    + rule("second", "b", 'recommend "Second line"', "  after first\n")
    + rule("third", "c", 'recommend "Third line"', "  after second\n")
    + rule("halt", "stop", "caution", "  overrides second\n")
    + "}\n"
)


def test_after_requires_the_earlier_line_to_have_fired() -> None:
    def second(**facts: object) -> str:
        return SEQUENCE.evaluate({"stop": False, **facts}).outcomes["second"]

    assert second(a=True, b=True) == "fired"
    assert second(a=False, b=True) == "not_fired"
    assert second(b=True) == "undetermined"
    assert second(b=False) == "not_fired"


def test_lines_of_therapy_and_chain() -> None:
    ev = SEQUENCE.evaluate({"a": True, "b": True, "c": True, "stop": False})
    lines = {rec.rule: (rec.line, rec.after, rec.chain) for rec in ev.recommendations}
    assert lines == {
        "first": (1, (), ()),
        "second": (2, ("first",), ("first",)),
        "third": (3, ("second",), ("first", "second")),
    }
    assert [rec.rule for rec in ev.recommendations] == ["first", "second", "third"]


def test_overridden_when_the_condition_holds_and_the_winner_fired() -> None:
    ev = SEQUENCE.evaluate({"a": True, "b": True, "c": True, "stop": True}, trace=True)
    assert ev.outcomes["second"] == "overridden"
    assert [(o.rule, o.overridden_by) for o in ev.overridden] == [("second", ("halt",))]
    assert ev.outcomes["third"] == "not_fired"  # an overridden line does not lead on
    assert ev.trace is not None
    why = {t.rule: t.why_not for t in ev.trace}
    assert why["second"] is not None and why["second"].reason == "overridden"
    assert why["second"].rules == ("halt",)
    assert why["third"] is not None and why["third"].reason == "after"
    assert why["third"].rules == ("second",)
    assert SEQUENCE.decide({"a": True, "b": True, "c": True, "stop": True}) == {"first", "halt"}


def test_an_undetermined_winner_leaves_the_loser_undetermined_with_its_missing_facts() -> None:
    ev = SEQUENCE.evaluate({"a": True, "b": True})
    assert ev.outcomes["second"] == "undetermined"
    missing = {u.rule: u.missing for u in ev.undetermined}
    assert missing["second"] == ("stop",)
    assert missing["third"] == ("c", "stop")


def test_a_winner_that_fired_over_an_unknown_condition_means_not_fired() -> None:
    ev = SEQUENCE.evaluate({"a": True, "stop": True}, trace=True)
    assert ev.outcomes["second"] == "not_fired"  # "overridden" would claim `b` held
    assert ev.overridden == ()
    assert ev.trace is not None
    entry = next(t for t in ev.trace if t.rule == "second")
    assert entry.why_not is not None and entry.why_not.reason == "overridden"


# --- derived facts ----------------------------------------------------------------------------

DERIVED = compiled_rules(
    """\
fact age: integer in 0..120
fact seizure: bool
fact fever: bool
derived risk: enum {low, high}
"""
    + rule("risk.high", "age >= 65 or seizure", "derive risk = high")
    + rule("risk.low", "age < 65 and not seizure", "derive risk = low")
    + rule("treat", "risk == high and fever", 'recommend "Treat"')
    + rule("watch", "risk == low", "note")
)


def test_a_derived_value_needs_its_rule_fired_and_the_others_not() -> None:
    ev = DERIVED.evaluate({"age": 70, "fever": True})
    assert ev.derived["risk"].value == "high"
    assert ev.derived["risk"].rule == "risk.high"
    assert [(b.fact, b.value) for b in ev.derived["risk"].because] == [("age", 70)]
    assert ev.outcomes["treat"] == "fired"
    (rec,) = ev.recommendations
    assert [(b.fact, b.value, b.derived, b.rule) for b in rec.because] == [
        ("risk", "high", True, "risk.high"),
        ("fever", True, False, None),
    ]
    assert rec.chain == ("risk.high",)


def test_an_undetermined_derivation_leaves_the_fact_unknown_downstream() -> None:
    ev = DERIVED.evaluate({"age": 40, "fever": True})  # seizure unknown: risk undetermined
    assert ev.derived == {}
    assert ev.outcomes["risk.high"] == "undetermined"
    assert ev.outcomes["treat"] == "undetermined"
    by_rule = {u.rule: u for u in ev.undetermined}
    assert by_rule["treat"].missing == ("seizure",)  # mapped back through the derivation
    assert by_rule["watch"].missing == ("seizure",)


def test_a_derived_fact_no_rule_derived_stays_unknown_and_is_reported_unresolved() -> None:
    policy = compiled_rules(
        "fact a: bool\nfact b: bool\nderived level: enum {one, two}\n"
        + rule("level.one", "a", "derive level = one")
        + rule("level.two", "b", "derive level = two", "  overrides level.one\n")
        + rule("uses", "level == one", 'recommend "X"')
    )
    ev = policy.evaluate({"a": False, "b": False})
    assert ev.derived == {}
    (entry,) = ev.undetermined
    assert (entry.rule, entry.missing, entry.unresolved) == ("uses", (), ("level",))
    ev = policy.evaluate({"a": True, "b": True})  # precedence settles the conflict
    assert ev.derived["level"].value == "two"
    assert ev.outcomes["level.one"] == "overridden"
    assert ev.outcomes["uses"] == "not_fired"


def test_conflicting_derivations_never_yield_a_value() -> None:
    # The checker refuses this policy (LR405); a hand-built model shows the engine stays safe.
    base = checked_rules(
        "fact a: bool\nfact b: bool\nderived level: enum {one, two}\n"
        + rule("level.one", "a", "derive level = one")
        + rule("level.two", "b and not a", "derive level = two")
        + rule("uses", "level == one or level == two", 'recommend "X"')
    )
    rules = list(base.rules)
    rules[1] = m.Rule(
        "level.two", "s", ("1",), m.Compare("b", "==", True), m.Derive("level", "two")
    )
    conflicting = m.Policy(
        id="p", title="P", version="1", evidence=base.evidence, facts=base.facts, rules=tuple(rules)
    )
    ev = compile_policy(conflicting).evaluate({"a": True, "b": True})
    assert ev.outcomes["level.one"] == ev.outcomes["level.two"] == "fired"
    assert ev.derived == {}
    assert ev.outcomes["uses"] == "undetermined"
    assert ev.undetermined[0].unresolved == ("level",)


def test_a_derivation_of_another_value_left_undetermined_keeps_the_fact_unknown() -> None:
    # Derivations the checker accepts as exclusive can still be one fired and one undetermined
    # (Kleene logic does not see every exclusivity); a hand-built model states the case directly.
    hand = m.Policy(
        id="p",
        title="P",
        version="1",
        evidence={"1": m.Evidence("1", "c")},
        facts={
            "a": m.Fact("a", m.FactType("bool")),
            "b": m.Fact("b", m.FactType("bool")),
            "level": m.Fact("level", m.FactType("enum", ("one", "two")), derived=True),
        },
        rules=(
            m.Rule("one", "s", ("1",), m.Compare("a", "==", True), m.Derive("level", "one")),
            m.Rule("two", "s", ("1",), m.Compare("b", "==", True), m.Derive("level", "two")),
            m.Rule("uses", "s", ("1",), m.Compare("level", "==", "one"), m.StateNote("note")),
        ),
    )
    policy = compile_policy(hand)
    ev = policy.evaluate({"a": True})
    assert (ev.outcomes["one"], ev.outcomes["two"]) == ("fired", "undetermined")
    assert ev.derived == {}
    assert ev.outcomes["uses"] == "undetermined"
    assert ev.undetermined[-1].missing == ("b",)
    assert policy.evaluate({"a": True, "b": False}).derived["level"].value == "one"


def test_derive_rules_with_the_same_value_agree() -> None:
    policy = compiled_rules(
        "fact a: bool\nfact b: bool\nderived flag: bool\n"
        + rule("flag.a", "a", "derive flag = true")
        + rule("flag.b", "b", "derive flag = true")
        + rule("uses", "flag", "note")
    )
    ev = policy.evaluate({"a": True})  # b unknown, but it derives the same value
    assert ev.derived["flag"].value is True
    assert ev.derived["flag"].rules == ("flag.a",)
    assert ev.outcomes["uses"] == "fired"
    assert policy.evaluate({"a": True, "b": True}).derived["flag"].rules == ("flag.a", "flag.b")


# --- missing and because ----------------------------------------------------------------------

LOGIC = compiled_rules(
    "fact a: bool\nfact b: bool\nfact c: bool\nfact d: bool\n"
    + rule("l.and", "a and b and c")
    + rule("l.or", "a or b or c")
    + rule("l.not", "not (a and b)")
    + rule("l.mixed", "(a or b) and (c or d)")
)


@pytest.mark.parametrize(
    ("rule_id", "facts", "missing"),
    [
        ("l.and", {"a": True}, ["b", "c"]),
        ("l.and", {}, ["a", "b", "c"]),
        ("l.or", {"a": False}, ["b", "c"]),
        ("l.not", {"a": True}, ["b"]),
        ("l.mixed", {"a": True, "c": False}, ["d"]),
        ("l.mixed", {"c": True}, ["a", "b"]),
    ],
)
def test_missing_lists_only_the_unknown_facts_that_would_decide(
    rule_id: str, facts: dict[str, object], missing: list[str]
) -> None:
    ev = LOGIC.evaluate(facts)
    entry = next(u for u in ev.undetermined if u.rule == rule_id)
    assert list(entry.missing) == missing


@pytest.mark.parametrize(
    ("rule_id", "facts", "because"),
    [
        ("l.and", {"a": True, "b": True, "c": True, "d": False}, ["a", "b", "c"]),
        ("l.or", {"a": False, "b": True, "c": True}, ["b"]),  # the first true alternative
        ("l.not", {"a": True, "b": False}, ["b"]),  # the fact that made `a and b` false
        ("l.not", {"a": False, "b": False}, ["a"]),
        ("l.mixed", {"b": True, "d": True}, ["b", "d"]),
    ],
)
def test_because_is_the_minimal_set_of_facts_that_made_the_condition_true(
    rule_id: str, facts: dict[str, object], because: list[str]
) -> None:
    ev = LOGIC.evaluate(facts)
    note = next(n for n in ev.notes if n.rule == rule_id)
    assert [b.fact for b in note.because] == because
    assert all(b.value == facts[b.fact] for b in note.because)


def test_trace_names_the_first_false_sub_condition_and_its_values() -> None:
    ev = LOGIC.evaluate({"a": True, "b": False, "c": False, "d": False}, trace=True)
    assert ev.trace is not None
    by_rule = {t.rule: t for t in ev.trace}
    why = by_rule["l.and"].why_not
    assert why is not None
    assert (why.reason, why.condition) == ("condition", "b")
    assert [(r.fact, r.value) for r in why.reads] == [("b", False)]
    assert why.line is not None and why.column is not None
    why = by_rule["l.mixed"].why_not
    assert why is not None
    assert why.condition == "c or d"
    assert [(r.fact, r.value) for r in why.reads] == [("c", False), ("d", False)]
    assert by_rule["l.not"].outcome == "fired" and by_rule["l.not"].why_not is None
    assert [t.rule for t in ev.trace] == list(ev.outcomes)


def test_trace_is_absent_unless_asked_for() -> None:
    ev = LOGIC.evaluate({"a": True})
    assert ev.trace is None
    assert '"trace"' not in ev.to_json()
    assert '"trace"' in LOGIC.evaluate({"a": True}, trace=True).to_json()


# --- entries, order, gaps ---------------------------------------------------------------------

ORDERED = compiled_rules(
    "fact a: bool\n"
    + rule("top", None, 'recommend "Top-level care"')
    + 'section "B section" {\n'
    + rule("b.second", "a", 'recommend "B second line"', "  after b.first\n")
    + rule("b.first", "a", 'recommend "B first line"\n  strength recommended')
    + 'section "Nested" {\n'
    + rule("b.nested", "a", 'recommend "Nested"\n  alternatives "Alt 1", "Alt 2"')
    + 'gap gap.nested { when a note "Nothing said for this case" }\n'
    + "}\n"
    + rule("b.note", "a", 'note "A note of its own"')
    + rule("b.after", "a", 'recommend "B after nested"')
    + "}\n"
    + 'section "A section" {\n'
    + 'section "A sub" {\n'
    + rule("a.sub", "a", 'recommend "A sub rec"')
    + "}\n"
    + rule("a.rec", "a", 'recommend "A rec"')
    + rule("a.caution", "a", "caution")
    + "}\n"
    + "gap gap.top { when not a }\n"
)


def test_recommendations_follow_sections_then_lines_then_source_order() -> None:
    ev = ORDERED.evaluate({"a": True})
    assert [r.rule for r in ev.recommendations] == [
        "top",
        "b.first",  # first lines before second lines, whatever the source order
        "b.after",  # (a first line too; a section's entries stay together)
        "b.second",
        "b.nested",
        "a.sub",  # a heading whose own rules follow its sub-section comes after it
        "a.rec",
    ]
    assert [n.rule for n in ev.notes] == ["b.note", "a.caution"]
    by_id = {r.rule: r for r in ev.recommendations}
    first = by_id["b.first"]
    assert (first.strength.key, first.strength.label) == ("recommended", "recommended")
    assert first.section == ("B section",)
    assert by_id["b.nested"].section == ("B section", "Nested")
    assert by_id["b.nested"].alternatives == ("Alt 1", "Alt 2")
    assert ev.recommendations[0].strength.label == "no strength stated"
    assert ev.recommendations[0].because == ()
    note = ev.notes[0]
    assert (note.kind, note.text, note.statement) == (
        "note",
        "A note of its own",
        "Statement of b.note.",
    )
    assert ev.notes[1].kind == "caution" and ev.notes[1].text is None


def test_gaps_are_reported_when_their_condition_is_true() -> None:
    assert [g.id for g in ORDERED.evaluate({"a": True}).gaps] == ["gap.nested"]
    gaps = ORDERED.evaluate({"a": False}).gaps
    assert [(g.id, g.section, g.note) for g in gaps] == [("gap.top", (), None)]
    assert ORDERED.evaluate({}).gaps == ()  # an unknown condition is not a relevant gap
    nested = ORDERED.evaluate({"a": True}).gaps[0]
    assert (nested.section, nested.note) == (("B section", "Nested"), "Nothing said for this case")


def test_outcomes_list_every_rule_in_guideline_order() -> None:
    ev = ORDERED.evaluate({})
    assert list(ev.outcomes) == [r.id for r in ORDERED.policy.rules]


def test_policy_block_resolves_every_evidence_id() -> None:
    ev = ORDERED.evaluate({"a": True})
    assert ev.policy.evidence["1"].citation == "Doe J. A trial. 2020"
    assert ev.policy.evidence["1"].grade == "strong"
    assert ev.policy.evidence["2"].citation is None
    assert (ev.policy.id, ev.policy.title, ev.policy.version) == (
        "test.policy",
        "Test policy",
        "1.0",
    )
    assert ev.policy.sha256 == ORDERED.policy.sha256 and len(ev.policy.sha256) == 64
    assert ev.engine.name == "leukorules"


# --- determinism, hashing, caching ------------------------------------------------------------


def test_same_policy_and_facts_give_byte_identical_json() -> None:
    facts = {"age": 70, "seizure": False, "fever": True}
    reordered = dict(reversed(list(facts.items())))
    first = DERIVED.evaluate(facts, trace=True).to_json()
    again = compile_policy(checked_rules(DERIVED_TEXT)).evaluate(reordered, trace=True).to_json()
    assert first == again


DERIVED_TEXT = (
    """\
fact age: integer in 0..120
fact seizure: bool
fact fever: bool
derived risk: enum {low, high}
"""
    + rule("risk.high", "age >= 65 or seizure", "derive risk = high")
    + rule("risk.low", "age < 65 and not seizure", "derive risk = low")
    + rule("treat", "risk == high and fever", 'recommend "Treat"')
    + rule("watch", "risk == low", "note")
)


def test_facts_sha256_is_of_the_canonical_known_input_facts() -> None:
    a = FORMS.evaluate({"wbc": 12, "age": 3, "sex": None}).facts_sha256
    b = FORMS.evaluate({"age": 3, "wbc": 12.0}).facts_sha256
    c = FORMS.evaluate({"age": 4, "wbc": 12.0}).facts_sha256
    assert a == b != c
    empty = FORMS.evaluate({}).facts_sha256
    assert (
        empty == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )  # sha256("{}")


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.dates(),
    st.frozensets(st.text(max_size=3), max_size=3),
)


@given(st.dictionaries(st.text(max_size=5), _VALUES, max_size=6))
def test_facts_sha256_is_the_hash_of_the_documented_canonical_json(
    facts: dict[str, object],
) -> None:
    """`docs/audit.md`: keys sorted, no white space, ASCII only, whole floats as integers, sets
    as sorted lists, dates as YYYY-MM-DD; unknown facts left out."""

    def plain(value: object) -> object:
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, frozenset):
            return sorted(value)
        return value

    known = {k: plain(v) for k, v in facts.items() if v is not None}
    text = json.dumps(known, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert facts_sha256(facts, tuple(facts)) == hashlib.sha256(text.encode("ascii")).hexdigest()


@settings(max_examples=examples(60))
@given(st.data())
def test_the_generated_hash_is_the_reference_hash(data: st.DataObject) -> None:
    """The compiled evaluator writes the canonical JSON in generated code; it must hash to
    what `facts_sha256` (the documented reference) gives, for every kind of fact."""
    policy = data.draw(policies(max_rules=3))
    facts = data.draw(facts_for(policy))
    compiled = compile_policy(policy)
    validated = compiled.validate(facts)
    names = tuple(f.name for f in policy.input_facts)
    assert compiled.evaluate(validated).facts_sha256 == facts_sha256(validated, names)


def test_compilation_is_cached_per_policy() -> None:
    policy = checked_rules(DERIVED_TEXT)
    assert compile_policy(policy) is compile_policy(checked_rules(DERIVED_TEXT))
    other = checked_rules(DERIVED_TEXT + rule("extra", "fever", "note"))
    assert compile_policy(other) is not compile_policy(policy)


def test_the_same_policy_in_two_folders_is_compiled_for_each(tmp_path: Path) -> None:
    """Spans name the files and the guideline source is looked up beside the header, so a
    compilation of one folder must never answer for another holding the same text."""
    policies = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "p.rules").write_text(HEADER + DERIVED_TEXT, encoding="utf-8")
        result = check_paths([tmp_path / name / "p.rules"])
        assert result.policy is not None
        policies.append(result.policy)
    first, second = (compile_policy(p) for p in policies)
    assert first is not second
    assert second.policy.span is not None and "second" in second.policy.span.file


def test_decide_builds_no_result_or_trace_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    from leukorules.engine import build, trace

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("decide must not explain")

    for module, name in [
        (trace, "support"),
        (trace, "condition_tree"),
        (trace, "first_false"),
        (build, "build_evaluation"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    assert DERIVED.decide({"age": 70, "fever": True}) == {"treat"}
    assert DERIVED.decide({"age": 20, "seizure": False}) == {"watch"}
    assert DERIVED.decide({}) == frozenset()


def test_decide_leaves_out_derivations_no_reported_rule_reads() -> None:
    policy = compiled_rules(
        "fact a: bool\nfact b: bool\nderived unused: bool\nderived used: bool\n"
        + rule("unused.yes", "a and b", "derive unused = true")
        + rule("used.yes", "b", "derive used = true")
        + rule("shown", "used", "note")
    )
    decide_source = policy.source[policy.source.index("def _decide") :]
    assert "g('a')" not in decide_source  # only `unused.yes` reads `a`
    assert policy.decide({"a": True, "b": True}) == {"shown"}
    ev = policy.evaluate({"a": True, "b": True})
    assert ev.derived["unused"].value is True  # evaluate still reports it


# --- the generated code -----------------------------------------------------------------------


def test_generated_code_holds_user_text_only_as_repr_literals() -> None:
    nasty = 'x\'); __import__("os").system("echo pwned") #\\n'
    escaped = nasty.replace("\\", "\\\\").replace('"', '\\"')
    policy = compiled_rules(
        "fact name: string\nfact kind: enum {a, b}\n"
        + rule("evil.rule", f'name == "{escaped}" and kind in {{a}}', 'recommend "x"')
    )
    assert repr(nasty) in policy.source
    assert '__import__("os")' not in policy.source.replace(repr(nasty), "")
    assert policy.decide({"name": nasty, "kind": "a"}) == {"evil.rule"}
    assert policy.decide({"name": "other", "kind": "a"}) == frozenset()


def test_generated_code_has_no_builtins_beyond_frozenset() -> None:
    policy = compiled_rules("fact a: bool\n" + rule("r", "a", "note"))
    assert policy._core.__globals__["__builtins__"] == {"frozenset": frozenset}


def test_deeply_nested_conditions_compile() -> None:
    condition = "a"
    for index in range(20):  # as deep as the parser allows
        condition = f"not ({condition} and b)" if index % 2 else f"({condition} or b)"
    policy = compiled_rules("fact a: bool\nfact b: bool\n" + rule("deep", condition, "note"))
    # far deeper than any policy text can be: the compiler hoists deep parts into locals
    when: m.Expr = m.Compare("a", "==", True)
    for index in range(300):
        b = m.Compare("b", "==", True)
        when = m.Not(m.And((when, b))) if index % 2 else m.Or((when, b))
    deep = dataclasses.replace(
        policy.policy, rules=(dataclasses.replace(policy.policy.rules[0], when=when),)
    )
    for candidate in (policy, compile_policy(deep)):
        expr = candidate.policy.rule("deep").when
        for a, b in itertools.product([T, F, U], repeat=2):
            facts = facts_of(a=a, b=b)
            assert outcome(candidate, "deep", facts) == OUTCOME[logic.evaluate(expr, facts)]


def test_dates_without_literal_form_are_bound_as_constants() -> None:
    policy = compiled_rules("fact d: date\n" + rule("r", "d in {2020-01-01, 2021-06-30}", "note"))
    assert "datetime" not in policy.source
    assert policy.decide({"d": datetime.date(2021, 6, 30)}) == {"r"}
    assert policy.decide({"d": datetime.date(2021, 7, 1)}) == frozenset()


# --- explain ----------------------------------------------------------------------------------


def test_explain_a_fired_rule_step_by_step() -> None:
    ex = DERIVED.explain({"age": 70, "fever": True}, "treat")
    assert ex.outcome == "fired"
    assert ex.condition.truth == "true" and ex.condition.kind == "and"
    assert [(c.text, c.truth) for c in ex.condition.children] == [
        ("risk == high", "true"),
        ("fever", "true"),
    ]
    read = ex.condition.children[0].reads[0]
    assert (read.fact, read.value, read.derived, read.rule) == ("risk", "high", True, "risk.high")
    assert ex.chain == ("risk.high",)


def test_explain_undetermined_and_not_fired_rules_and_gaps() -> None:
    ex = DERIVED.explain({"fever": True}, "treat")
    assert ex.outcome == "undetermined"
    assert ex.missing == ("age", "seizure")
    ex = DERIVED.explain({"age": 70, "fever": False}, "treat")
    assert ex.outcome == "not_fired"
    assert ex.why_not is not None and ex.why_not.condition == "fever"
    ex = ORDERED.explain({"a": False}, "gap.top")
    assert (ex.kind, ex.outcome) == ("gap", "relevant")
    assert ORDERED.explain({}, "gap.top").missing == ("a",)


def test_explain_an_unknown_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        DERIVED.explain({}, "no.such.rule")


# --- the public API ---------------------------------------------------------------------------


def test_load_policy_compiles_and_caches(tmp_path: Path) -> None:
    import leukorules
    from leukorules import CompiledPolicy, Evaluation, load_policy

    path = tmp_path / "p.rules"
    path.write_text(HEADER + "fact a: bool\n" + rule("r", "a", 'recommend "X"'), "utf-8")
    policy = load_policy(path)
    assert isinstance(policy, CompiledPolicy)
    assert load_policy(str(path)) is policy  # cached per policy sha256
    assert isinstance(policy.evaluate({"a": True}), Evaluation)
    assert policy.decide({"a": True}) == {"r"}
    assert load_policy([path]).policy == policy.policy
    assert leukorules.load_policy is load_policy


def test_load_policy_raises_policy_error_with_every_diagnostic(tmp_path: Path) -> None:
    from leukorules import PolicyError, load_policy

    path = tmp_path / "bad.rules"
    path.write_text(HEADER + rule("r", "nope", "note") + rule("s", "nada", "note"), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert [d.code for d in error.diagnostics if d.severity.label == "error"] == ["LR201", "LR201"]
    assert [name.endswith("bad.rules") for name in error.sources] == [True]
    assert "2 error(s)" in str(error) and "`nope`" in str(error)
    assert "bad.rules" in error.render() and "^" in error.render()


def test_importing_the_package_stays_light() -> None:
    code = "import sys, leukorules; print('pydantic' in sys.modules, 'lark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
