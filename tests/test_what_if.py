"""`leukorules evaluate FACTS --what-if FACT=VALUE`: what one different (or newly known) fact
would change, for the bundled policy and an example patient."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from support.cli import leukorules

from leukorules import load_policy
from leukorules.prove.what_if import parse_hypothesis, what_if

REPO = Path(__file__).resolve().parent.parent
PATIENT = str(REPO / "examples" / "patients" / "adem-steroid-nonresponder.yaml")


def run(*args: str) -> Result:
    return leukorules("evaluate", PATIENT, *args, env={"LEUKORULES_NO_CACHE": "1"})


def test_a_pending_result_shows_the_recommendation_it_would_add() -> None:
    result = run("--what-if", "plasma_exchange_response=not_responding")
    assert result.exit_code == 0, result.output
    section = result.stdout.split("\nWhat if ", 1)[1]
    assert section == (
        "plasma_exchange_response were not_responding (now not_started):\n"
        "  adem.ivig would fire, now not fired: recommendation Intravenous immunoglobulin "
        "(IVIG), may be considered\n"
    )


def test_each_hypothesis_is_taken_on_its_own() -> None:
    result = run(
        "--what-if", "symptom_course=improved", "--what-if", "plasma_exchange_response=responding"
    )
    assert result.exit_code == 0, result.output
    first, second = result.stdout.split("\nWhat if ")[1:]
    assert first.startswith("symptom_course were improved (now progressed):")
    assert "  response would be unknown, now non_response" in first
    assert second == (
        "plasma_exchange_response were responding (now not_started):\n  nothing would change\n"
    )


def test_a_hypothesis_the_policy_refuses_says_why() -> None:
    compiled = load_policy()
    facts = compiled.validate({"leukoencephalopathy_type": "drug_induced"})
    refused = what_if(compiled, facts, parse_hypothesis("causative_drug=none", compiled.policy))
    assert refused.changes == () and len(refused.problems) == 1
    assert "drug-induced leukoencephalopathy is attributed to a drug" in refused.problems[0]
    wrong = what_if(compiled, facts, parse_hypothesis("causative_drug=aspirin", compiled.policy))
    assert wrong.problems and "aspirin" in wrong.problems[0]


def test_the_changes_are_the_engines_outcomes_for_the_changed_facts() -> None:
    compiled = load_policy()
    raw = {"leukoencephalopathy_type": "pml", "hiv_positive": True}
    facts = compiled.validate(raw)
    found = what_if(
        compiled, facts, parse_hypothesis("immune_restoration_possible=true", compiled.policy)
    )
    after = compiled.run({**raw, "immune_restoration_possible": True})
    index = compiled.plan.graph.index
    assert [(c.rule, c.after) for c in found.changes] == [("pml.immune_restoration", "fired")]
    assert after.outcome(index["pml.immune_restoration"]) == "fired"


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("age=3", "`age` is not a fact of policy leukoencephalopathy"),
        ("response=non_response", "`response` is a derived fact"),
        ("symptom_course", "write FACT=VALUE"),
    ],
)
def test_a_malformed_hypothesis_is_a_usage_error(written: str, message: str) -> None:
    result = run("--what-if", written)
    assert result.exit_code == 2
    assert message in result.output


def test_json_holds_the_evaluation_and_the_hypotheses() -> None:
    plain = json.loads(run("--format", "json").stdout)
    result = run("--format", "json", "--what-if", "plasma_exchange_response=not_responding")
    document = json.loads(result.stdout)
    assert document["evaluation"] == plain
    (hypothesis,) = document["what_if"]
    assert hypothesis["fact"] == "plasma_exchange_response"
    assert hypothesis["changes"] == [
        {"rule": "adem.ivig", "kind": "recommend", "before": "not_fired", "after": "fired"}
    ]


def test_markdown_gets_a_section_and_html_refuses() -> None:
    markdown = run("--format", "markdown", "--what-if", "symptom_course=improved")
    assert "\n## What if symptom_course were improved (now progressed)\n\n- " in markdown.stdout
    html = run("--format", "html", "--what-if", "symptom_course=improved")
    assert html.exit_code == 2


def test_without_what_if_the_output_is_unchanged() -> None:
    assert "What if" not in run().stdout
