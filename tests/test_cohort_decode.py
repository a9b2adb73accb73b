"""Cohort decoding: CSV cells by fact type, JSON lines, and the validation fast path cohorts
rely on.

The engine's fast check (`FactsValidator`, which cohort rows go through) may only accept what
`validate_facts` accepts, with the same values; hypothesis throws valid and invalid raw values of
every kind a cohort file can hold at both.
"""

from __future__ import annotations

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules import model as m
from leukorules.cohort.decode import csv_value, json_id, parse_json_line
from leukorules.engine.compile import compile_policy
from leukorules.engine.facts import validate_facts

FACTS = {
    "b": m.FactType("bool"),
    "i": m.FactType("integer", minimum=0, maximum=100),
    "j": m.FactType("integer"),
    "x": m.FactType("number", minimum=0.0, maximum=10.0),
    "e": m.FactType("enum", ("a", "b")),
    "s": m.FactType("set", ("p", "q")),
    "t": m.FactType("string"),
    "d": m.FactType("date"),
}
POLICY = m.Policy(
    id="p",
    title="t",
    version="1",
    facts={
        **{n: m.Fact(n, t) for n, t in FACTS.items()},
        "k": m.Fact("k", m.FactType("bool"), derived=True),
    },
)

FAST = compile_policy(POLICY).validator._fast

raw_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 120),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["a", "b", "c", "p", "", "2020-01-31", "2020-02-30", "0000-01-01", "１"]),
    st.lists(st.sampled_from(["p", "q", "z", 1, None]), max_size=3),
    st.just(datetime.date(2021, 5, 4)),
    st.just(datetime.datetime(2021, 5, 4, 10, 0)),
    st.just({"p": 1}),
)


@settings(max_examples=examples(400))
@given(st.dictionaries(st.sampled_from([*FACTS, "k", "unknown_key"]), raw_values, max_size=5))
def test_the_fast_check_accepts_only_what_validate_facts_accepts(raw: dict[str, object]) -> None:
    quick = FAST(raw)
    values, problems = validate_facts(POLICY, raw)
    if quick is not None:
        assert not problems, (raw, problems)
        assert quick == values
        assert {k: type(v) for k, v in quick.items()} == {k: type(v) for k, v in values.items()}


def test_the_fast_check_takes_the_common_valid_row() -> None:
    raw = {"b": True, "i": 5, "x": 3, "e": "a", "s": ["p"], "t": "x", "d": "2020-01-31"}
    assert FAST(raw) == {
        "b": True,
        "i": 5,
        "x": 3.0,
        "e": "a",
        "s": frozenset({"p"}),
        "t": "x",
        "d": datetime.date(2020, 1, 31),
    }


def fact(name: str) -> m.Fact:
    return POLICY.facts[name]


def test_csv_cells_by_type() -> None:
    assert csv_value(fact("b"), " Yes ") == (True, None)
    assert csv_value(fact("b"), "0") == (False, None)
    assert csv_value(fact("b"), "maybe")[1] is not None
    assert csv_value(fact("i"), "+7") == (7, None)
    assert csv_value(fact("i"), "7.0")[1] == ("LR503", "`i` must be a whole number")
    assert csv_value(fact("x"), ".5") == (0.5, None)
    assert csv_value(fact("x"), "1e999")[1] == ("LR503", "`x` must be a finite number")
    assert csv_value(fact("x"), "nan")[1] == ("LR503", "`x` must be a finite number")
    assert csv_value(fact("d"), "2020-01-31") == ("2020-01-31", None)
    assert csv_value(fact("d"), "31/01/2020")[1] is not None
    assert csv_value(fact("s"), "p; q") == (["p", "q"], None)
    assert csv_value(fact("s"), "[]") == ([], None)
    assert csv_value(fact("s"), "  ") == (None, None)
    assert csv_value(fact("t"), "  keep  ") == ("  keep  ", None)
    assert csv_value(fact("e"), "\ta ") == ("a", None)


def test_json_lines_and_ids() -> None:
    assert parse_json_line('{"a": 1}')[0] == {"a": 1}
    assert parse_json_line('{"a": NaN}')[1] == ("LR507", "malformed JSON: NaN is not JSON")
    assert parse_json_line('{"a": 1, "a": 2}')[1] == ("LR507", "`a` given twice")
    assert parse_json_line("[1]")[1] == ("LR507", "the line is not a JSON object")
    assert parse_json_line('{"a": "\\ud83d\\ude00"}')[0] == {"a": "\U0001f600"}
    malformed = parse_json_line('{"a": "\\ud83d"}')[1]
    assert malformed is not None and "half of a character" in malformed[1]
    assert json_id(7, "id") == ("7", None)
    assert json_id(True, "id")[1] == ("LR507", "`id` must be text or a whole number")
    assert json_id(" \t", "id")[1] == ("LR507", "the record has no `id`")
