"""Facts files: JSON and YAML reading, and validation against the policy's declarations."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from support.policies import every_fact_kind_policy

from leukorules.engine.facts import facts_model, validate_facts
from leukorules.engine.facts_file import (
    MAX_FACTS_BYTES,
    FactsDocument,
    load_facts_file,
    parse_facts_text,
)

POLICY = every_fact_kind_policy()


def validate(raw: dict[str, object]) -> tuple[dict[str, object], list[tuple[str, str]]]:
    values, problems = validate_facts(POLICY, raw)
    return dict(values), [(d.code, d.message) for d in problems]


def test_valid_values_are_typed() -> None:
    values, problems = validate(
        {
            "age": 54,
            "weight": 70,
            "sex": "female",
            "fever": False,
            "symptoms": ["seizure", "headache", "seizure"],
            "onset": "2024-02-29",
            "note": "free text",
            "model_config": True,
        }
    )
    assert problems == []
    assert values == {
        "age": 54,
        "weight": 70.0,
        "sex": "female",
        "fever": False,
        "symptoms": frozenset({"seizure", "headache"}),
        "onset": datetime.date(2024, 2, 29),
        "note": "free text",
        "model_config": True,
    }
    assert isinstance(values["weight"], float)


def test_null_and_absent_are_unknown() -> None:
    values, problems = validate({"age": None, "fever": None})
    assert (values, problems) == ({}, [])


def test_every_bad_fact_is_reported_at_once() -> None:
    raw = {
        "agee": 3,
        "risk": "high",
        "age": 130,
        "weight": 0.5,
        "sex": "femal",
        "fever": "yes",
        "symptoms": ["seizure", "fits"],
        "onset": "2024-02-30",
        "note": 5,
    }
    values, problems = validate(raw)
    assert values == {}
    codes = sorted(code for code, _ in problems)
    assert codes == [
        "LR502",
        "LR503",
        "LR503",
        "LR503",
        "LR504",
        "LR504",
        "LR505",
        "LR505",
        "LR506",
    ]
    messages = "\n".join(message for _, message in problems)
    assert "`agee` is not a fact of this policy" in messages
    assert "`risk` is a derived fact" in messages
    assert "`age` = 130 is outside its declared range 0..120" in messages
    assert "`weight` = 0.5 [kg] is outside its declared range 1..400" in messages
    assert "`femal` is not an allowed value of `sex`" in messages
    assert "`fits` is not an allowed value of `symptoms` (item 2)" in messages
    assert "`onset` is not a calendar date" in messages


def test_hints_suggest_names_and_list_allowed_values() -> None:
    _, problems = validate_facts(POLICY, {"agee": 3, "sex": "femal", "fever": "unknown"})
    hints = {d.code: d.hint for d in problems}
    assert hints["LR502"] == "did you mean `age`?"
    assert hints["LR504"] is not None
    assert "allowed values: female, male" in hints["LR504"]
    assert "did you mean `female`" in hints["LR504"]
    assert hints["LR503"] == "for an unknown fact, leave it out or write null"


@pytest.mark.parametrize(
    ("fact", "value", "code"),
    [
        ("age", True, "LR503"),  # a bool is not a number
        ("age", "54", "LR503"),  # no coercion from text
        ("age", 54.0, "LR503"),  # integers are whole numbers without a decimal point
        ("age", 54.5, "LR503"),
        ("weight", "70", "LR503"),
        ("weight", float("nan"), "LR503"),
        ("weight", float("inf"), "LR503"),
        ("fever", 1, "LR503"),
        ("fever", "true", "LR503"),
        ("sex", False, "LR503"),  # YAML `no`
        ("sex", 1, "LR503"),
        ("symptoms", "seizure", "LR503"),  # a set is a list
        ("symptoms", [1], "LR503"),
        ("onset", "01/02/2024", "LR503"),
        ("onset", datetime.datetime(2024, 1, 2, 3, 4), "LR503"),
        ("onset", 20240102, "LR503"),
        ("note", ["a"], "LR503"),
        ("sex", "Female", "LR504"),
        ("age", -1, "LR505"),
        ("weight", 400.5, "LR505"),
    ],
)
def test_wrong_values(fact: str, value: object, code: str) -> None:
    values, problems = validate_facts(POLICY, {fact: value, "model_config": True})
    assert [d.code for d in problems] == [code]
    assert values == {"model_config": True}  # the good facts are still returned


def test_values_at_the_range_bounds_are_accepted() -> None:
    values, problems = validate({"age": 0, "weight": 400})
    assert problems == [] and values == {"age": 0, "weight": 400.0}
    values, problems = validate({"age": 120, "weight": 1})
    assert problems == []


def test_the_facts_model_is_a_pydantic_model_of_the_input_facts() -> None:
    model = facts_model(POLICY)
    schema = model.model_json_schema()
    assert set(schema["properties"]) == {
        "age",
        "weight",
        "sex",
        "fever",
        "symptoms",
        "onset",
        "note",
        "model_config",
    }
    assert facts_model(POLICY) is model  # built once per declarations


# --- reading files ----------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_and_yaml_files_give_the_same_facts(tmp_path: Path) -> None:
    json_file = write(tmp_path, "p.json", '{"age": 54, "symptoms": ["seizure"], "onset": null}')
    yaml_file = write(tmp_path, "p.yaml", "age: 54\nsymptoms: [seizure]\nonset: null\n")
    a, problems_a = load_facts_file(json_file)
    b, problems_b = load_facts_file(yaml_file)
    assert problems_a == problems_b == []
    assert a == b == {"age": 54, "symptoms": ["seizure"], "onset": None}


def test_yaml_dates_are_dates(tmp_path: Path) -> None:
    raw, _ = load_facts_file(write(tmp_path, "p.yml", "onset: 2024-01-02\n"))
    assert raw is not None
    assert validate_facts(POLICY, raw)[0] == {"onset": datetime.date(2024, 1, 2)}


def test_an_impossible_yaml_date_is_a_diagnostic_not_a_crash(tmp_path: Path) -> None:
    raw, problems = load_facts_file(write(tmp_path, "p.yaml", "onset: 2025-02-30\n"))
    assert problems == [] and raw == {"onset": "2025-02-30"}
    _, problems = validate_facts(POLICY, raw)
    assert [(d.code, d.message) for d in problems] == [("LR503", "`onset` is not a calendar date")]


def test_diagnostics_point_at_the_line_of_the_fact(tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "# patient\nage: 54\nsexx: male\nfever: maybe\n")
    raw, problems = load_facts_file(path)
    assert raw is not None and problems == []
    _, problems = validate_facts(POLICY, raw)
    located = [(d.code, d.span.line if d.span else None) for d in problems]
    assert located == [("LR502", 3), ("LR503", 4)]
    assert all(d.span is not None and d.span.file.endswith("p.yaml") for d in problems)
    path = write(tmp_path, "p.json", '{\n  "age": 54,\n  "sexx": "male"\n}\n')
    raw, _ = load_facts_file(path)
    assert raw is not None
    (problem,) = validate_facts(POLICY, raw)[1]
    assert problem.span is not None and (problem.span.line, problem.span.column) == (3, 3)


@pytest.mark.parametrize(
    ("name", "text", "message", "line"),
    [
        ("p.json", '{"age": 54,\n "sex": }', "malformed JSON", 2),
        ("p.json", "[1, 2]", "is a list, not a mapping", 1),
        ("p.json", '"text"', "is text, not a mapping", 1),
        ("p.json", '{"age": 1, "age": 2}', "fact `age` is given twice", 1),
        ("p.yaml", "age: 54\nsex: [male\n", "malformed YAML", 3),
        ("p.yaml", "- age\n- sex\n", "is a list, not a mapping", 1),
        ("p.yaml", "just text\n", "is a single value, not a mapping", 1),
        ("p.yaml", "age: 1\nage: 2\n", "fact `age` is given twice", 2),
        ("p.yaml", "a: 1\n---\nb: 2\n", "expected a single document", 2),
        ("p.yaml", "", "the facts document is empty", 1),
        ("p.yaml", "# nothing\n", "the facts document is empty", 1),
        ("p.yaml", "age: !!python/object/apply:os.system [ls]\n", "malformed YAML", 1),
        ("p.yaml", "note: &x text\nother: *x\n", "anchors and aliases", 1),
        ("p.yaml", "1: true\n", "fact names are text", 1),
        ("p.yaml", "symptoms: [2025-02-30]\n", "the value of `symptoms` cannot be read", 1),
    ],
)
def test_malformed_documents(tmp_path: Path, name: str, text: str, message: str, line: int) -> None:
    raw, problems = load_facts_file(write(tmp_path, name, text))
    assert raw is None
    (problem,) = problems
    assert problem.code in ("LR502", "LR507")
    assert message in problem.message
    assert problem.span is not None and problem.span.line == line


def test_alias_bombs_are_refused_without_expanding_them(tmp_path: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        previous = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        bomb.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    raw, problems = load_facts_file(write(tmp_path, "bomb.yaml", "\n".join(bomb) + "\n"))
    assert raw is None
    assert [p.code for p in problems] == ["LR507"]
    assert "anchors and aliases" in problems[0].message


def test_unreadable_and_oversized_files(tmp_path: Path) -> None:
    raw, problems = load_facts_file(tmp_path / "missing.json")
    assert raw is None and [p.code for p in problems] == ["LR501"]
    raw, problems = load_facts_file(tmp_path)
    assert raw is None and "folder" in problems[0].message
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FACTS_BYTES + 1))
    raw, problems = load_facts_file(big)
    assert raw is None and "larger than" in problems[0].message
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"age: 5\n\xff\xfe\n")
    raw, problems = load_facts_file(binary)
    assert raw is None and problems[0].message == "facts file is not UTF-8 text"
    assert problems[0].span is not None and problems[0].span.line == 2


def test_stdin_is_read_as_json_or_yaml() -> None:
    raw, problems = load_facts_file("-", stdin=io.BytesIO(b'{"age": 3}'))
    assert (raw, problems) == ({"age": 3}, [])
    raw, problems = load_facts_file("-", stdin=io.BytesIO(b"\xef\xbb\xbfage: 3\n"))
    assert (raw, problems) == ({"age": 3}, [])
    assert isinstance(raw, FactsDocument) and raw.name == "<stdin>"


def test_unknown_suffix_is_sniffed(tmp_path: Path) -> None:
    raw, _ = load_facts_file(write(tmp_path, "patient.txt", '  {"age": 3}'))
    assert raw == {"age": 3}
    raw, _ = load_facts_file(write(tmp_path, "patient", "age: 3\n"))
    assert raw == {"age": 3}


def test_parse_facts_text_keeps_key_positions() -> None:
    raw, problems = parse_facts_text('{"a": {"nested": [1, {"b": 2}]}, "c": 3}', "x.json", "json")
    assert problems == [] and raw is not None
    assert raw == {"a": {"nested": [1, {"b": 2}]}, "c": 3}
    assert {k: (s.line, s.column) for k, s in raw.spans.items()} == {"a": (1, 2), "c": (1, 34)}


def test_text_with_a_lone_surrogate_is_refused_with_its_position(tmp_path: Path) -> None:
    """JSON's `\\ud800` escape decodes to half a character, which no report, log or JSON
    result can write: it is a bad value, reported like any other, never a crash later."""
    values, problems = validate({"note": "ok\ud800", "fever": True})
    assert problems == [
        (
            "LR503",
            "`note` is not valid Unicode text: character 3 is a lone surrogate (U+D800)",
        )
    ]
    assert values == {"fever": True}
    assert validate({"note": "a pair \U0001f600 is fine"})[1] == []
    from leukorules.engine.compile import compile_policy

    fast = compile_policy(POLICY).validator._fast
    assert fast({"note": "x\udfff"}) is None  # left to validate_facts, which explains it
    file = write(tmp_path, "facts.json", '{"note": "x\\ud800"}')
    raw, problems = load_facts_file(str(file))
    assert raw is not None and not problems
    assert [d.code for d in validate_facts(POLICY, raw)[1]] == ["LR503"]
