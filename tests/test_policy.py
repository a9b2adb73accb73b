"""The bundled leukoencephalopathy policy: clean check, the public facts contract, and fidelity."""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules import FactsError
from leukorules import model as m
from leukorules.authoring.coverage import normalize_path, split_source
from leukorules.check import CheckResult, check_paths
from leukorules.engine.compile import CompiledPolicy, compile_policy

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "policies" / "leukoencephalopathy"
SOURCE = POLICY_DIR / "source" / "leukoencephalopathy-treatment.txt"
FACTS_DOC = ROOT / "docs" / "facts.md"

# The patient-facts contract of issue 4: public names and values that must never change.
CONTRACT: dict[str, tuple[str, tuple[str, ...]]] = {
    "leukoencephalopathy_type": (
        "enum",
        ("pml", "drug_induced", "post_infectious", "toxic", "other"),
    ),
    "hiv_positive": ("bool", ()),
    "immune_restoration_possible": ("bool", ()),
    "pml_medication_induced": ("bool", ()),
    "checkpoint_inhibitor_candidate": ("bool", ()),
    "causative_drug": ("enum", ("mycophenolic_acid", "rituximab", "other", "none")),
    "pml_signs": ("bool", ()),
    "corticosteroid_response": ("enum", ("not_started", "responding", "not_responding")),
    "plasma_exchange_response": ("enum", ("not_started", "responding", "not_responding")),
    "toxic_exposure_ongoing": ("bool", ()),
    "electrolyte_imbalance": ("bool", ()),
    "agitation": ("bool", ()),
    "seizures": ("bool", ()),
    "neuropathic_pain": ("bool", ()),
    "raised_intracranial_pressure": ("bool", ()),
    "motor_deficits": ("bool", ()),
    "dysarthria_or_dysphasia": ("bool", ()),
    "immune_mediated": ("bool", ()),
    "pres": ("bool", ()),
    "on_treatment": ("bool", ()),
    "clinical_decline": ("bool", ()),
    "symptom_course": ("enum", ("resolved", "improved", "unchanged", "progressed")),
    "csf_findings": ("enum", ("normalized", "abnormal", "progressed")),
    "mri_findings": ("enum", ("normalized", "minimal_residual", "abnormal", "progressed")),
}


@cache
def checked() -> CheckResult:
    return check_paths([POLICY_DIR])


def policy() -> m.Policy:
    result = checked()
    assert result.policy is not None, [d.message for d in result.diagnostics]
    return result.policy


def test_policy_checks_clean_with_only_the_declared_gap() -> None:
    diagnostics = checked().diagnostics
    assert [(d.code, d.message) for d in diagnostics] == [
        (
            "LR409",
            "guideline gap `drug_induced.rituximab.no_statement`: the source makes no statement "
            "under 'For rituximab-associated leukoencephalopathy'",
        )
    ]


def test_header_and_evidence_are_honest() -> None:
    p = policy()
    assert (p.id, p.title, p.version) == (
        "leukoencephalopathy",
        "Treatment Approach for Leukoencephalopathy",
        "1.0.0",
    )
    assert p.source == SOURCE.name
    # The source numbers its references 1, 2, 3, 4 and 6 and cites none of them.
    assert sorted(p.evidence) == ["1", "2", "3", "4", "6"]
    for evidence in p.evidence.values():
        assert evidence.citation_declared and evidence.citation is None
        assert (evidence.url, evidence.doi, evidence.pmid, evidence.grade) == (None,) * 4


def test_the_contract_facts_keep_their_names_and_values() -> None:
    facts = policy().facts
    for name, (kind, values) in CONTRACT.items():
        assert name in facts, name
        assert (facts[name].type.kind, facts[name].type.values) == (kind, values), name
        assert not facts[name].derived
    response = facts["response"]
    assert response.derived
    assert response.type.values == ("complete_remission", "partial_response", "non_response")


def _doc_rows() -> dict[str, tuple[str, tuple[str, ...]]]:
    rows: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in FACTS_DOC.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\| `(\w+)` \| (\w+) \| ([^|]*) \|", line)
        if found:
            name, kind, values = found.groups()
            names = tuple(re.findall(r"`(\w+)`", values)) if kind == "enum" else ()
            assert name not in rows, f"{name} is documented twice"
            rows[name] = (kind, names)
    return rows


def test_docs_facts_table_matches_the_policy() -> None:
    documented = _doc_rows()
    declared = {f.name: (f.type.kind, f.type.values) for f in policy().facts.values()}
    assert documented == declared


def test_sections_are_the_headings_of_the_source() -> None:
    doc = split_source(SOURCE.read_text(encoding="utf-8"))
    headings = [normalize_path(h.path) for h in doc.headings]
    sections = [normalize_path(s.path) for s in policy().sections]
    assert sections == headings


def test_every_gap_sits_under_an_empty_heading() -> None:
    doc = split_source(SOURCE.read_text(encoding="utf-8"))
    empty = {normalize_path(h.path) for h in doc.empty_headings()}
    gaps = {normalize_path(g.section) for g in policy().gaps}
    assert gaps == empty


# The words of a statement that name a strength, most specific first. A recommendation's
# strength must be the one its statement words; a statement with none of them is unqualified.
STRENGTH_WORDS = (
    ("first-line", "first_line"),
    ("may be considered", "may_be_considered"),
    ("consider ", "may_be_considered"),
    ("suggested", "suggested"),
    ("may help", "may_help"),
    ("may provide", "may_help"),
    ("cornerstone", "primary"),
    ("primary", "primary"),
    ("crucial", "crucial"),
    ("recommended", "recommended"),
)


def test_strengths_follow_the_wording_of_the_statement() -> None:
    for rule in policy().rules:
        if not isinstance(rule.conclusion, m.Recommend):
            continue
        wording = next(
            (strength for words, strength in STRENGTH_WORDS if words in rule.statement.lower()),
            "unqualified",
        )
        assert rule.conclusion.strength == wording, rule.id


def test_duloxetine_alternatives_are_those_of_the_source() -> None:
    conclusion = policy().rule("supportive.neuropathic_pain").conclusion
    assert isinstance(conclusion, m.Recommend)
    assert conclusion.action == "Duloxetine"
    assert [a.lower() for a in conclusion.alternatives] == [
        "venlafaxine",
        "pregabalin",
        "amitriptyline",
        "tramadol",
    ]


def _nodes(expr: m.Expr) -> list[m.Expr]:
    found = [expr]
    if isinstance(expr, m.And | m.Or):
        for item in expr.items:
            found.extend(_nodes(item))
    elif isinstance(expr, m.Not):
        found.extend(_nodes(expr.item))
    return found


def test_no_condition_concludes_from_a_negation_or_from_unknown() -> None:
    """The guideline conditions no statement on the absence of something, and missing data is
    unknown, never false: no `not`, `!=`, `not in`, `is known` or `is unknown` test."""
    for item in (*policy().rules, *policy().gaps):
        for node in _nodes(item.when):
            assert not isinstance(node, m.Not), item.id
            assert not (isinstance(node, m.Compare) and node.op == "!="), item.id
            assert not (isinstance(node, m.Member) and node.negated), item.id
            assert not isinstance(node, m.Known), item.id


def test_precedence_is_declared_only_where_the_response_criteria_overlap() -> None:
    overrides = {r.id: r.overrides for r in policy().rules if r.overrides}
    assert overrides == {"response.partial_response": ("response.non_response",)}
    after = {r.id: r.after for r in policy().rules if r.after}
    assert after == {
        "adem.plasma_exchange": ("adem.corticosteroids",),
        "considerations.blood_pressure_control_pres": ("considerations.blood_pressure_control",),
    }


def test_unconditional_rules_are_the_statements_for_everyone() -> None:
    unconditional = sorted(r.id for r in policy().rules if r.when == m.Const(True) and not r.after)
    assert unconditional == [
        "approach.supportive_care",
        "considerations.permanent_deficits",
        "considerations.symptoms_guide_treatment",
        "imaging.serial_mri",
    ]


# --- semantics of the bundled policy ----------------------------------------------------------


@cache
def compiled() -> CompiledPolicy:
    return compile_policy(policy())


def _response_table(course: str | None, csf: str | None, mri: str | None) -> str | None:
    """The response decision table of docs/facts.md, written independently of the rules.
    None: undetermined (a fact that would change the answer is unknown)."""
    if csf == "progressed" or mri == "progressed":
        return "non_response"  # whatever the symptom course; never a partial response
    if course in ("unchanged", "progressed"):
        return "non_response"
    both_known = csf is not None and mri is not None  # unknown findings may have progressed
    if course == "improved":
        return "partial_response" if both_known else None
    if course == "resolved":
        if csf == "normalized" and mri in ("normalized", "minimal_residual"):
            return "complete_remission"
        if both_known and "abnormal" in (csf, mri):
            return "partial_response"
    return None  # a course that is unknown could be improved, or unchanged


def test_response_follows_the_documented_table_for_every_combination() -> None:
    facts = policy().facts
    courses = (None, *facts["symptom_course"].type.values)
    csfs = (None, *facts["csf_findings"].type.values)
    mris = (None, *facts["mri_findings"].type.values)
    for course, csf, mri in itertools.product(courses, csfs, mris):
        given = {"symptom_course": course, "csf_findings": csf, "mri_findings": mri}
        derived = compiled().evaluate({k: v for k, v in given.items() if v}).derived
        actual = derived["response"].value if "response" in derived else None
        assert actual == _response_table(course, csf, mri), given


def _patients() -> st.SearchStrategy[dict[str, m.Value]]:
    """Random patients over every input fact; each fact unknown or one of its values.

    Drawn as one byte per fact (fast to generate; shrinks towards "everything unknown")."""
    domains: list[tuple[str, tuple[m.Value, ...]]] = [
        (f.name, (True, False) if f.type.kind == "bool" else f.type.values)
        for f in policy().input_facts
    ]

    def build(raw: bytes) -> dict[str, m.Value]:
        facts: dict[str, m.Value] = {}
        for (name, values), byte in zip(domains, raw, strict=True):
            choice = byte % (len(values) + 1)
            if choice:
                facts[name] = values[choice - 1]
        return facts

    return st.binary(min_size=len(domains), max_size=len(domains)).map(build)


@settings(max_examples=examples(150))
@given(patient=_patients(), data=st.data())
def test_learning_more_facts_never_retracts_a_conclusion(
    patient: dict[str, m.Value], data: st.DataObject
) -> None:
    """Missing data is unknown, never false: supplying more facts can decide undetermined rules,
    but never turns a fired rule off, a not-fired rule on, or changes a derived value."""
    full = data.draw(_patients())
    more = {**full, **patient}  # the same patient, with some unknown facts now known
    try:
        before = compiled().evaluate(patient)
    except FactsError:  # facts that contradict each other still do with more facts known
        with pytest.raises(FactsError):
            compiled().evaluate(more)
        return
    try:
        after = compiled().evaluate(more)
    except FactsError:
        return  # the new facts contradict the old: refused, nothing concluded from either
    for rule_id, outcome in before.outcomes.items():
        later = after.outcomes[rule_id]
        if outcome == "fired":
            assert later == "fired", rule_id
        elif outcome in ("not_fired", "overridden"):
            assert later in ("not_fired", "overridden"), rule_id
    for name, entry in before.derived.items():
        assert after.derived[name].value == entry.value
    assert {g.id for g in before.gaps} <= {g.id for g in after.gaps}


@settings(max_examples=examples(200))
@given(patient=_patients(), data=st.data())
def test_an_unknown_fact_never_hides_a_recommendation_a_known_value_would_give(
    patient: dict[str, m.Value], data: st.DataObject
) -> None:
    """For every rule: while an input fact it reads is unknown, the rule is never "not fired"
    if some value of that fact would make it fire (it is undetermined instead)."""
    facts = policy().facts
    rule = data.draw(st.sampled_from(policy().rules))
    read = sorted({n for n in m.expr_facts(rule.when) if not facts[n].derived})
    if not read:
        return
    name = data.draw(st.sampled_from(read))
    unknown = {k: v for k, v in patient.items() if k != name}
    try:
        outcome = compiled().evaluate(unknown).outcomes[rule.id]
    except FactsError:
        return
    if outcome not in ("not_fired", "overridden"):
        return
    kind = facts[name].type
    for value in (True, False) if kind.kind == "bool" else kind.values:
        try:
            known = compiled().evaluate({**unknown, name: value}).outcomes[rule.id]
        except FactsError:
            continue
        assert known != "fired", (rule.id, name, value)
