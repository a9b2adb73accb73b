"""The result's published JSON Schema, and results read back from JSON: pydantic at the boundary.

Input: the record classes of `leukorules.result.model`. Output: the JSON Schema of `Evaluation`
(`docs/result.schema.json`; regenerate with `python -m leukorules.result.schema >
docs/result.schema.json`), and `parse_evaluation`, which validates a result's JSON against
that same schema and returns the records. Only this module imports pydantic for results: the
engine builds records without it, and the writer writes them without it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from leukorules.result.model import Evaluation, Explanation

SCHEMA_ID = "https://leukorules.invalid/result.schema.json"


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def result_schema() -> dict[str, Any]:
    """The published JSON Schema of `Evaluation` (what `Evaluation.to_json` produces)."""
    schema: dict[str, Any] = _adapter(Evaluation).json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    return schema


def result_schema_text() -> str:
    return json.dumps(result_schema(), indent=2, sort_keys=True) + "\n"


def parse_evaluation(text: str | bytes) -> Evaluation:
    """A result's JSON, validated (strictly: unknown properties are refused) -> its records."""
    parsed: Evaluation = _adapter(Evaluation).validate_json(text)
    return parsed


def parse_explanation(text: str | bytes) -> Explanation:
    parsed: Explanation = _adapter(Explanation).validate_json(text)
    return parsed


if __name__ == "__main__":  # pragma: no cover - `python -m leukorules.result.schema`
    print(result_schema_text(), end="")
