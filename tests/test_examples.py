"""The example patients: valid facts, realistic coverage of the policy, and the README command."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from support.cli import leukorules

from leukorules.check import check_paths
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.facts import validate_facts
from leukorules.engine.facts_file import load_facts_file
from leukorules.result import Evaluation

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "patients"
FIRST_COMMAND_EXAMPLE = EXAMPLES / "adem-steroid-nonresponder.yaml"
PATHS = sorted(EXAMPLES.glob("*.yaml"))


@cache
def bundled() -> CompiledPolicy:
    result = check_paths([ROOT / "policies" / "leukoencephalopathy"])
    assert result.policy is not None
    return compile_policy(result.policy, result.sources)


@cache
def evaluate(path: Path) -> Evaluation:
    document, problems = load_facts_file(path)
    assert document is not None and not problems, [p.message for p in problems]
    values, problems = validate_facts(bundled().policy, document)
    assert not problems, [f"{p.span}: {p.message}" for p in problems]
    return bundled().evaluate(values)


def test_there_are_at_least_fifteen_examples() -> None:
    assert len(PATHS) >= 15


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_is_valid_and_synthetic(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# Synthetic patient (not a real person).")
    evaluation = evaluate(path)
    assert evaluation.outcomes  # every rule has an outcome


def test_examples_together_fire_every_rule_and_report_every_gap() -> None:
    fired = {r for p in PATHS for r, o in evaluate(p).outcomes.items() if o == "fired"}
    assert sorted(r.id for r in bundled().policy.rules if r.id not in fired) == []
    gaps = {g.id for p in PATHS for g in evaluate(p).gaps}
    assert gaps == {g.id for g in bundled().policy.gaps}


def _fired(name: str) -> set[str]:
    return {r for r, o in evaluate(EXAMPLES / name).outcomes.items() if o == "fired"}


def _response(name: str) -> object:
    derived = evaluate(EXAMPLES / name).derived.get("response")
    return None if derived is None else derived.value


@pytest.mark.parametrize(
    ("name", "fired", "not_fired"),
    [
        (
            "hiv-associated-pml.yaml",
            {"pml.hiv_antiretroviral_therapy", "pml.immune_restoration", "pml.cause"},
            {"pml.medication_induced.checkpoint_inhibitors", "adem.corticosteroids"},
        ),
        (
            "medication-induced-pml.yaml",
            {"pml.medication_induced.checkpoint_inhibitors", "pml.medication_induced.no_antiviral"},
            {"pml.hiv_antiretroviral_therapy", "laboratory.drug_induced_blood_tests"},
        ),
        (
            "mycophenolate-pml-signs.yaml",
            {"drug_induced.mycophenolic_acid.cessation", "laboratory.drug_induced_blood_tests"},
            set(),
        ),
        (
            "mycophenolate-no-pml-signs.yaml",
            {"supportive.neuropathic_pain", "laboratory.drug_induced_blood_tests"},
            {"drug_induced.mycophenolic_acid.cessation"},
        ),
        ("adem-first-presentation.yaml", {"adem.corticosteroids"}, {"adem.plasma_exchange"}),
        ("adem-steroid-nonresponder.yaml", {"adem.plasma_exchange"}, {"adem.ivig"}),
        ("adem-plasma-exchange-nonresponder.yaml", {"adem.ivig"}, set()),
        (
            "toluene-agitation-seizures.yaml",
            {
                "toxic.remove_exposure",
                "toxic.correct_electrolytes",
                "toxic.benzodiazepines",
                "supportive.seizures",
            },
            {"adem.corticosteroids"},
        ),
        ("raised-intracranial-pressure.yaml", {"supportive.raised_intracranial_pressure"}, set()),
        (
            "rehabilitation-motor-and-speech.yaml",
            {"rehabilitation.physical_occupational_therapy", "rehabilitation.speech_therapy"},
            {"toxic.remove_exposure"},
        ),
        (
            "pres-immune-mediated.yaml",
            {"considerations.blood_pressure_control", "considerations.blood_pressure_control_pres"},
            set(),
        ),
        (
            "decline-on-treatment.yaml",
            {"considerations.decline_may_be_treatment_toxicity"},
            set(),
        ),
    ],
)
def test_example_gets_what_its_story_needs(name: str, fired: set[str], not_fired: set[str]) -> None:
    outcome = _fired(name)
    assert fired <= outcome
    assert not (not_fired & outcome)


def test_each_response_category_has_an_example() -> None:
    assert _response("response-complete-remission.yaml") == "complete_remission"
    assert _response("response-partial-imaging-lag.yaml") == "partial_response"
    assert _response("response-non-response.yaml") == "non_response"
    assert _response("hiv-associated-pml.yaml") is None  # no course yet: unknown, not guessed


def test_rituximab_example_reports_the_gap() -> None:
    gaps = [g.id for g in evaluate(EXAMPLES / "rituximab-associated.yaml").gaps]
    assert gaps == ["drug_induced.rituximab.no_statement"]


def test_almost_nothing_known_leaves_most_rules_undetermined() -> None:
    evaluation = evaluate(EXAMPLES / "almost-nothing-known.yaml")
    outcomes = list(evaluation.outcomes.values())
    assert outcomes.count("fired") == 4  # the statements that apply to everyone
    assert outcomes.count("undetermined") >= 20
    assert all(entry.missing for entry in evaluation.undetermined)


def test_first_command_of_the_readme_runs() -> None:
    result = leukorules("evaluate", str(FIRST_COMMAND_EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "Plasma exchange" in result.output
