"""`leukorules prove`: verdicts, counterexamples as scenario files, exit statuses, JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from unittest import mock

import yaml
from click.testing import Result
from support.cli import leukorules
from support.policies import PROVE_DEMO_POLICY

POLICY = PROVE_DEMO_POLICY


def run(*args: str) -> Result:
    return leukorules(*args)


def policy_file(tmp_path: Path, text: str = POLICY) -> str:
    path = tmp_path / "policy.rules"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_failing_property_prints_its_counterexample_and_exits_1(tmp_path: Path) -> None:
    result = run("prove", policy_file(tmp_path))
    assert result.exit_code == 1
    head, _, scenario = result.stdout.partition("\n# ")
    assert "2 properties checked for every patient by the solver" in head
    assert "1 hold, 1 fails" in head
    assert "  FAILS  ivig.needs_failure: IVIG only after plasma exchange failed" in head
    assert "  holds  steroids.adem: ADEM gets steroids" in head
    (document,) = yaml.safe_load("# " + scenario)
    assert document["facts"] == {"kind": "adem", "age": 61}
    assert document["expect"] == {"fired": ["ivig"]}


def test_the_printed_counterexample_is_a_scenario_leukorules_test_runs(tmp_path: Path) -> None:
    policy = policy_file(tmp_path)
    folder = tmp_path / "found"
    assert run("prove", policy, "--counterexamples", str(folder)).exit_code == 1
    written = folder / "ivig.needs_failure.yaml"
    assert sorted(p.name for p in folder.iterdir()) == [written.name]
    tested = run("test", "--policy", policy, str(written))
    assert tested.exit_code == 0, tested.output


def test_all_properties_holding_exit_0_and_json_reports_them(tmp_path: Path) -> None:
    result = run("prove", policy_file(tmp_path), "--property", "steroids.adem", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["holds"] == 1 and document["fails"] == 0
    assert document["policy"]["id"] == "demo.prove"
    (prop,) = document["properties"]
    assert prop["id"] == "steroids.adem" and prop["holds"] and prop["counterexample"] is None


def test_json_gives_the_counterexample_facts_outcomes_and_scenario(tmp_path: Path) -> None:
    document = json.loads(run("prove", policy_file(tmp_path), "--format", "json").stdout)
    failing = document["properties"][0]
    assert failing["counterexample"]["facts"] == {"kind": "adem", "age": 61}
    assert failing["counterexample"]["outcomes"] == {"ivig": "fired"}
    assert failing["counterexample"]["truth"] == "false"
    assert yaml.safe_load(failing["counterexample"]["scenario"])[0]["facts"]["age"] == 61


def test_an_unknown_property_is_a_usage_error(tmp_path: Path) -> None:
    result = run("prove", policy_file(tmp_path), "--property", "nope")
    assert result.exit_code == 2
    assert "has no property nope" in result.output


def test_a_policy_without_properties_has_nothing_to_prove(tmp_path: Path) -> None:
    text = POLICY.split("property ivig")[0]
    result = run("prove", policy_file(tmp_path, text))
    assert result.exit_code == 0
    assert "declares no properties" in result.stdout


def test_without_the_solver_a_large_policy_names_the_extra() -> None:
    with mock.patch.dict(sys.modules, {"z3": None}):
        result = leukorules("prove")
    assert result.exit_code == 1
    assert "pip install 'leukorules[prove]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_bundled_policy_ships_safety_properties_that_all_hold() -> None:
    result = run("prove", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["fails"] == 0 and document["holds"] >= 8
    assert not any(p["vacuous"] for p in document["properties"])


def test_the_bundled_properties_catch_a_rule_that_breaks_them(tmp_path: Path) -> None:
    import shutil

    from leukorules.syntax.grammar import bundled_policy_dir

    folder = tmp_path / "policy"
    shutil.copytree(bundled_policy_dir(), folder)
    types = folder / "types.rules"
    text = types.read_text(encoding="utf-8")
    guarded = (
        "when leukoencephalopathy_type == post_infectious\n        and plasma_exchange_response"
    )
    assert guarded in text
    types.write_text(
        text.replace(
            guarded,
            "when leukoencephalopathy_type == post_infectious\n        or plasma_exchange_response",
        ),
        encoding="utf-8",
    )
    result = run("prove", str(folder))
    assert result.exit_code == 1
    assert "  FAILS  adem.ivig_only_after_plasma_exchange_failure" in result.stdout
