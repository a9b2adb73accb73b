"""The engine's speed paths behave exactly like the plain ones.

`evaluate` returns an `Evaluation` whose entries are built on first use: every way of reading
it (attributes, dumps, comparison, copies, pickling, repr, nesting in another model, threads)
must see the same result as one built at once. No timing here: see benchmarks/bench_evaluate.py.
"""

from __future__ import annotations

import copy
import datetime
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from test_engine_helpers import cli_in_a_fresh_process, every_construct_policy

from leukorules.engine.result import Evaluation

POLICY = every_construct_policy()

FACTS: list[dict[str, object]] = [
    {},
    {"age": 70},
    {"age": 30},
    {"age": 70, "symptoms": frozenset({"a"})},
    {"age": 70, "symptoms": frozenset({"a"}), "onset": datetime.date(2019, 1, 1)},
]
READS = [
    lambda ev: ev.model_dump_json(),
    lambda ev: ev.model_dump(),
    lambda ev: ev.recommendations,
    lambda ev: ev.facts_sha256,
    lambda ev: ev.trace,
    lambda ev: repr(ev),
    lambda ev: list(ev),
    lambda ev: ev == ev.model_copy(),
    lambda ev: copy.deepcopy(ev),
    lambda ev: pickle.dumps(ev),
    lambda ev: ev.fired(),
]


@pytest.mark.parametrize("facts", FACTS)
@pytest.mark.parametrize("trace", [False, True])
@pytest.mark.parametrize("first", range(len(READS)))
def test_any_first_read_gives_the_same_result(
    facts: dict[str, object], trace: bool, first: int
) -> None:
    reference = POLICY.evaluate(facts, trace=trace)
    expected = reference.model_dump_json()
    ev = POLICY.evaluate(facts, trace=trace)
    READS[first](ev)
    assert ev.model_dump_json() == expected
    assert list(json.loads(ev.model_dump_json())) == list(json.loads(expected))
    assert ev == reference
    assert Evaluation.model_validate_json(expected) == ev
    assert pickle.loads(pickle.dumps(POLICY.evaluate(facts, trace=trace))) == ev
    assert copy.copy(POLICY.evaluate(facts, trace=trace)) == ev
    assert ev.__pydantic_private__ is None
    assert list(ev.__dict__) == list(Evaluation.model_fields)


def test_fields_are_in_declaration_order_after_any_read() -> None:
    ev = POLICY.evaluate({"age": 70}, trace=True)
    assert ev.undetermined is not None
    assert list(ev.__dict__) == list(Evaluation.model_fields)
    assert list(json.loads(ev.model_dump_json()))[:3] == ["policy", "facts_sha256", "engine"]


def test_a_pending_result_nested_in_another_model_serialises_in_full() -> None:
    class Holder(BaseModel):
        evaluation: Evaluation

    expected = POLICY.evaluate({"age": 70}).model_dump_json()
    holder = Holder.model_construct(evaluation=POLICY.evaluate({"age": 70}))
    assert json.loads(holder.model_dump_json())["evaluation"] == json.loads(expected)
    holder = Holder.model_construct(evaluation=POLICY.evaluate({"age": 70}))
    assert holder.model_dump()["evaluation"] == json.loads(expected)


def test_comparing_two_pending_results() -> None:
    assert POLICY.evaluate({"age": 70}) == POLICY.evaluate({"age": 70})
    assert POLICY.evaluate({"age": 70}) != POLICY.evaluate({"age": 30})


def test_results_stay_unhashable_and_frozen() -> None:
    ev = POLICY.evaluate({"age": 70})
    with pytest.raises(TypeError):
        hash(ev)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        ev.notes = []  # type: ignore[misc]


def test_unknown_attributes_still_raise() -> None:
    ev = POLICY.evaluate({"age": 70})
    with pytest.raises(AttributeError):
        ev.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    assert ev.__pydantic_private__ is not None  # that did not build the entries


def test_results_never_share_mutable_lists() -> None:
    first = POLICY.evaluate({"age": 70, "symptoms": frozenset({"a"})})
    second = POLICY.evaluate({"age": 70, "symptoms": frozenset({"a"})})
    first.recommendations[0].evidence.append("x")
    first.recommendations[0].section.append("x")
    assert "x" not in second.recommendations[0].evidence
    assert "x" not in second.recommendations[0].section


def test_threads_reading_one_pending_result_see_the_same_objects() -> None:
    for _ in range(20):
        ev = POLICY.evaluate({"age": 70, "symptoms": frozenset({"a"})}, trace=True)
        seen: list[Any] = []
        barrier = threading.Barrier(4)

        def read(
            ev: Evaluation = ev, seen: list[Any] = seen, barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            seen.append(ev.recommendations)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(found is ev.recommendations for found in seen)


# --- the attribute-only view the text and markdown commands render ------------------------------

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples" / "patients").iterdir())


def _same_values(model: Any, view: Any, where: str) -> None:
    """`view` carries exactly the fields and values of the pydantic `model`, recursively."""
    if isinstance(model, BaseModel):
        assert not isinstance(view, BaseModel), where
        assert list(vars(view)) == list(type(model).model_fields), where
        for name in type(model).model_fields:
            _same_values(getattr(model, name), getattr(view, name), f"{where}.{name}")
    elif isinstance(model, list):
        assert isinstance(view, list) and len(view) == len(model), where
        for i, (a, b) in enumerate(zip(model, view, strict=True)):
            _same_values(a, b, f"{where}[{i}]")
    elif isinstance(model, dict):
        assert isinstance(view, dict) and list(view) == list(model), where
        for key in model:
            _same_values(model[key], view[key], f"{where}[{key!r}]")
    else:
        assert type(view) is type(model) and view == model, where


def _example_facts(path: Path) -> tuple[Any, dict[str, object]]:
    from leukorules import load_policy
    from leukorules.engine.facts import load_facts_file

    policy = load_policy()
    raw, problems = load_facts_file(path)
    assert raw is not None and not problems
    values, problems = policy.validate(raw)
    assert not problems
    return policy, values


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_the_view_has_the_results_fields_and_renders_alike(path: Path, trace: bool) -> None:
    from leukorules.report.markdown import render_markdown
    from leukorules.report.text import render_text

    policy, values = _example_facts(path)
    model = policy.evaluate(values, trace=trace)
    view = policy.evaluate_view(values, trace=trace)
    _same_values(model, view, "evaluation")
    assert view.fired() == model.fired()
    for color in (False, True):
        assert render_text(view, color=color) == render_text(model, color=color)
    assert render_markdown(view) == render_markdown(model)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_text_and_markdown_commands_do_not_import_pydantic(fmt: str) -> None:
    printed, modules = cli_in_a_fresh_process(["evaluate", str(EXAMPLES[0]), "--format", fmt])
    assert "pydantic" not in modules
    assert printed


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_model_dump_json_equals_the_wrapped_serializer_byte_for_byte(
    path: Path, trace: bool
) -> None:
    policy, values = _example_facts(path)
    for indent in (None, 2):
        pending = policy.evaluate(values, trace=trace)
        direct = pending.model_dump_json(indent=indent)  # first read: builds the entries
        wrapped = policy.evaluate(values, trace=trace)
        reference = wrapped.__pydantic_serializer__.to_json(wrapped, indent=indent).decode()
        assert direct == reference
        assert pending.model_dump_json(indent=indent, round_trip=False) == reference
    assert ('"trace"' in direct) is trace


@pytest.mark.parametrize("facts", FACTS)
@pytest.mark.parametrize("trace", [False, True])
def test_model_dump_json_direct_path_on_a_small_policy(
    facts: dict[str, object], trace: bool
) -> None:
    ev = POLICY.evaluate(facts, trace=trace)
    reference = POLICY.evaluate(facts, trace=trace)
    expected = reference.__pydantic_serializer__.to_json(reference).decode()
    assert ev.model_dump_json() == expected
    assert json.loads(expected).keys() == ev.model_dump(exclude_none=False).keys() - (
        set() if trace else {"trace"}
    )
