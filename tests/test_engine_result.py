"""The published result contract: `docs/result.schema.json` is the records' schema, real
results (with and without trace) validate against it and read back to equal records, and the
records are immutable."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

import jsonschema
import pytest
from support.golden import Golden
from support.policies import every_construct_policy

from leukorules.result import Evaluation, Reason, WhyNot
from leukorules.result.schema import parse_evaluation, result_schema, result_schema_text

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "result.schema.json"

POLICY = every_construct_policy()


def test_published_schema_is_the_model_schema(golden: Golden) -> None:
    """docs/result.schema.json is the model's schema (also printed by `python -m
    leukorules.result.schema`)."""
    golden.check(SCHEMA_FILE, result_schema_text())
    jsonschema.Draft202012Validator.check_schema(result_schema())


@pytest.mark.parametrize(
    "facts",
    [
        {},
        {"age": 70},
        {"age": 70, "symptoms": frozenset({"a"})},
        {"age": 70, "symptoms": frozenset({"a"}), "onset": datetime.date(2019, 1, 1)},
        {"age": 30, "symptoms": frozenset()},
    ],
)
@pytest.mark.parametrize("trace", [False, True])
def test_results_validate_against_the_published_schema(
    facts: dict[str, object], trace: bool
) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    ev = POLICY.evaluate(facts, trace=trace)
    document = json.loads(ev.to_json())
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert ("trace" in document) is trace
    assert parse_evaluation(ev.to_json()) == ev
    assert parse_evaluation(ev.to_json(indent=2)) == ev
    assert isinstance(ev, Evaluation)


def test_a_result_that_breaks_the_contract_does_not_validate() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    document = json.loads(POLICY.evaluate({"age": 70}).to_json())
    document["outcomes"]["care.first"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    del document["outcomes"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


def test_top_level_keys_are_the_documented_ones() -> None:
    document = json.loads(POLICY.evaluate({"age": 70}, trace=True).to_json())
    assert list(document) == [
        "policy",
        "facts_sha256",
        "engine",
        "outcomes",
        "recommendations",
        "notes",
        "derived",
        "undetermined",
        "gaps",
        "undetermined_gaps",
        "overridden",
        "trace",
    ]
    assert set(document["policy"]) >= {"id", "title", "version", "sha256", "sources", "evidence"}
    recommendation = document["recommendations"][0]
    assert set(recommendation) >= {
        "rule",
        "statement",
        "evidence",
        "section",
        "because",
        "chain",
        "action",
        "strength",
        "alternatives",
        "line",
        "after",
    }


def test_records_are_immutable_and_hold_no_lists() -> None:
    ev = POLICY.evaluate({"age": 70}, trace=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.facts_sha256 = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.recommendations[0].because = ()  # type: ignore[misc]

    def lists_in(value: object, where: str) -> list[str]:
        if isinstance(value, list):
            return [where]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return [
                found
                for f in dataclasses.fields(value)
                for found in lists_in(getattr(value, f.name), f"{where}.{f.name}")
            ]
        if isinstance(value, tuple):
            return [found for n, v in enumerate(value) for found in lists_in(v, f"{where}[{n}]")]
        if isinstance(value, dict):
            return [found for k, v in value.items() for found in lists_in(v, f"{where}[{k!r}]")]
        return []

    assert lists_in(ev, "evaluation") == []


def test_a_result_read_back_refuses_what_the_schema_refuses() -> None:
    document = json.loads(POLICY.evaluate({"age": 70}).to_json())
    document["recommendations"][0]["colour"] = "red"
    with pytest.raises(ValueError, match="colour"):
        parse_evaluation(json.dumps(document))
    assert WhyNot(reason="after").rules == ()
    with pytest.raises(TypeError):
        Reason(value=1)  # type: ignore[call-arg]
