"""Hostile YAML (and JSON) documents: deep nesting and tags, in facts and scenario files.

Deep nesting is refused at MAX_FACTS_DEPTH (facts) and MAX_SCENARIO_DEPTH (scenarios) levels,
at the place it passes the bound, while composing, before anything is built: 100,000 unclosed
`[` took PyYAML about 20 minutes (its scanner does work per open collection on every token);
JSON and YAML facts share one bound. A YAML tag on a collection leukorules reads itself (the
facts document, a scenario's mappings) is refused as one on a value is, rather than silently
ignored. Fuzzing: any text, in either format, and any bytes in a facts file give a document or
located problems, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.profiles import examples
from support.watchdog import watchdog

from leukorules import load_policy
from leukorules import model as m
from leukorules.authoring.scenario_files import load_scenario_text
from leukorules.authoring.scenarios import MAX_SCENARIO_DEPTH
from leukorules.engine.facts_file import MAX_FACTS_DEPTH, parse_facts_text


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with watchdog(30):
        yield


def policy() -> m.Policy:
    return load_policy().policy


def yaml_problems(text: str) -> list[tuple[str, str, int, int]]:
    document, problems = parse_facts_text(text, "p.yaml", "yaml")
    assert document is None or not problems
    return [
        (p.code, p.message, p.span.line if p.span else 0, p.span.column if p.span else 0)
        for p in problems
    ]


# --- deep nesting -------------------------------------------------------------------------------


def test_a_hundred_thousand_unclosed_brackets_in_yaml_facts_are_refused_at_the_bound() -> None:
    found = yaml_problems("age: " + "[" * 100_000)
    # the mapping is level 1; the 100th `[` (column 105) is level 101
    assert found == [("LR507", "YAML nested more than 100 levels deep", 1, 105)]


@pytest.mark.parametrize(
    "text",
    [
        "age: " + "{a: " * 100_000,  # flow mappings
        "age: " + "[\n" * 100_000,  # one bracket a line: no key lookahead to bound it
        "age:\n" + "".join("  " * i + "-\n" for i in range(200)),  # block sequences
        "".join("  " * i + f"k{i}:\n" for i in range(200)),  # block mappings
    ],
    ids=["flow-mappings", "bracket-lines", "block-sequences", "block-mappings"],
)
def test_every_way_of_nesting_yaml_is_bounded(text: str) -> None:
    (code, message, line, _), *rest = yaml_problems(text)
    assert not rest
    assert (code, message) == ("LR507", f"YAML nested more than {MAX_FACTS_DEPTH} levels deep")
    assert line <= MAX_FACTS_DEPTH + 1


def test_json_and_yaml_share_the_bound() -> None:
    def json_codes(depth: int) -> list[str]:
        text = '{"age": ' + "[" * depth + "]" * depth + "}"
        return [p.message for p in parse_facts_text(text, "p.json", "json")[1]]

    assert json_codes(MAX_FACTS_DEPTH - 1) == []  # the object is the first level
    assert json_codes(MAX_FACTS_DEPTH) == ["JSON nested more than 100 levels deep"]
    assert json_codes(100_000) == ["JSON nested more than 100 levels deep"]
    at_bound = "age: " + "[" * (MAX_FACTS_DEPTH - 1) + "]" * (MAX_FACTS_DEPTH - 1)
    assert yaml_problems(at_bound) == []


def test_deep_yaml_facts_through_evaluate(tmp_path: Path) -> None:
    facts = tmp_path / "deep.yaml"
    facts.write_text("age: " + "[" * 100_000)
    result = leukorules("evaluate", str(facts))
    assert result.exit_code == 1
    assert "deep.yaml:1:105: error: YAML nested more than 100 levels deep  [LR507]" in result.output


def test_deep_scenario_files_are_refused_with_their_line() -> None:
    text = "- name: deep\n  facts: {age: " + "[" * 100_000
    scenarios, problems = load_scenario_text(text, policy(), "s.yaml")
    assert scenarios == []
    assert [(p.line, p.message) for p in problems] == [
        (2, f"nested more than {MAX_SCENARIO_DEPTH} levels deep")
    ]
    block = "- name: deep\n  facts:\n" + "".join("  " * i + f"    k{i}:\n" for i in range(150))
    assert "levels deep" in load_scenario_text(block, policy(), "s.yaml")[1][0].message


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag", "column"),
    [
        ("--- !patient\nage: 54\n", "!patient", 5),  # the example: ignored before, the facts read
        ("!!set {age: 54}\n", "!!set", 1),  # a standard tag that would change what is read
        ("!!omap\nage: 54\n", "!!omap", 1),
    ],
)
def test_a_tag_on_the_facts_document_is_refused(text: str, tag: str, column: int) -> None:
    assert yaml_problems(text) == [
        ("LR507", f"the facts document carries the YAML tag `{tag}`", 1, column)
    ]


def test_the_same_tag_on_a_value_is_refused_too() -> None:
    [(code, message, line, column)] = yaml_problems("age: !patient 54\n")
    assert (code, line, column) == ("LR507", 1, 6)
    assert "!patient" in message


def test_the_plain_mapping_tag_changes_nothing_and_is_accepted() -> None:
    document, problems = parse_facts_text("!!map {age: 54}\n", "p.yaml", "yaml")
    assert problems == [] and document == {"age": 54}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("!!set {scenarios: 1}\n", 1, "a YAML tag (`!!set`) on the scenario file is not allowed"),
        (
            "- name: a\n  facts: !!omap {}\n  expect: {fired: [adem.ivig]}\n",
            2,
            "a YAML tag (`!!omap`) on the facts of 'a' is not allowed",
        ),
        (
            "--- !list\n- name: a\n  expect: {fired: [adem.ivig]}\n",
            1,
            "a YAML tag (`!list`) on the list of scenarios is not allowed",
        ),
        (
            "- name: a\n  expect: {fired: !!set {adem.ivig: null}}\n",
            2,
            "an entry of fired must be text",
        ),
    ],
)
def test_tags_on_what_a_scenario_reader_walks_are_refused(
    text: str, line: int, message: str
) -> None:
    _, problems = load_scenario_text(text, policy(), "s.yaml")
    assert [(p.line, p.message) for p in problems][:1] == [(line, message)]


# --- fuzzing the facts reader -------------------------------------------------------------------

_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10), st.dates()
)
_TREE = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=20,
)
_YAML_ALPHABET = "-:{}[], \n\t'\"&*!|>#@%?`abc01239eE.+~"
_HOSTILE_TEXT = st.one_of(
    st.text(st.sampled_from(_YAML_ALPHABET), max_size=80),
    st.text(max_size=40),
    st.sampled_from(
        [
            "[" * 100_000,
            "{" * 50_000,
            "a: &x [1]\nb: *x\n",
            "--- !patient\nage: 1\n",
            "age: !!python/object/apply:os.system [ls]\n",
            "age: 2025-02-30\n",
            "age: 1\nage: 2\n",
            '{"age": 1, "age": 2}',
            "\ufeff{}",
            "age: 1e400\n",
        ]
    ),
)


def _facts_text(tree: object, as_json: bool) -> str:
    if as_json:
        return json.dumps(tree, default=str)
    return yaml.safe_dump(tree, allow_unicode=True)


@settings(max_examples=examples(200))
@given(
    st.one_of(
        st.builds(_facts_text, _TREE, st.booleans()),
        _HOSTILE_TEXT,
    ),
    st.sampled_from(["json", "yaml"]),
)
def test_any_facts_text_gives_a_document_or_located_problems(text: str, fmt: str) -> None:
    document, problems = parse_facts_text(text, "p." + fmt, fmt)  # type: ignore[arg-type]
    assert (document is None) == bool(problems)
    for problem in problems:
        assert problem.code in ("LR502", "LR507")
        assert problem.span is None or problem.span.line >= 1


@settings(max_examples=examples(60))
@given(st.binary(max_size=200))
def test_any_bytes_in_a_facts_file_give_a_document_or_problems(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    from leukorules.engine.facts_file import load_facts_file

    folder = tmp_path_factory.mktemp("facts")
    for name in ("p.json", "p.yaml", "p"):
        (folder / name).write_bytes(data)
        document, problems = load_facts_file(folder / name)
        assert (document is None) == bool(problems)
