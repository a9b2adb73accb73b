"""The published result contract: `docs/result.schema.json` is the model's schema, and real
results (with and without trace) validate against it and round-trip through the model."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest
from test_engine_helpers import every_construct_policy

from leukorules.engine.result import Evaluation, result_schema, result_schema_text

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "docs" / "result.schema.json"

POLICY = every_construct_policy()


def test_published_schema_is_the_model_schema(update_golden: bool) -> None:
    if update_golden:
        SCHEMA_FILE.write_text(result_schema_text(), encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == result_schema_text(), (
        "docs/result.schema.json is stale: run pytest --update-golden "
        "(or python -m leukorules.engine.result > docs/result.schema.json)"
    )
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
    document = json.loads(ev.model_dump_json())
    jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    assert ("trace" in document) is trace
    assert Evaluation.model_validate_json(ev.model_dump_json()) == ev


def test_a_result_that_breaks_the_contract_does_not_validate() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    document = json.loads(POLICY.evaluate({"age": 70}).model_dump_json())
    document["outcomes"]["care.first"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)
    del document["outcomes"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema, cls=jsonschema.Draft202012Validator)


def test_top_level_keys_are_the_documented_ones() -> None:
    document = json.loads(POLICY.evaluate({"age": 70}, trace=True).model_dump_json())
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


def test_trusted_construction_fills_defaults_and_refuses_wrong_fields() -> None:
    from leukorules.engine.result import Reason, WhyNot, trusted

    why = trusted(WhyNot, {"reason": "after", "rules": ["a"]})
    assert why == WhyNot(reason="after", rules=["a"])
    assert trusted(WhyNot, {"reason": "after"}).reads is not trusted(WhyNot, {"reason": "x"}).reads
    with pytest.raises(TypeError, match="required"):
        trusted(Reason, {"value": 1})
    with pytest.raises(TypeError, match="no field 'colour'"):
        trusted(Reason, {"fact": "a", "value": 1, "colour": "red"})
