"""`leukorules.report.json_writer`: `evaluate --format json` without pydantic, byte for byte.

The writer turns the attribute-only view into the text `model_dump_json(indent=2)` gives for
the pydantic result, or says None where pydantic-core may write a value differently; then the
command falls back to the model. Checked on every example patient, on generated policies and
patients, value by value against pydantic-core itself, and through the command line.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

import pydantic_core
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import fact_values, facts_for, policies
from test_engine_helpers import HEADER, cli_in_a_fresh_process, rule
from test_engine_helpers import compiled as compile_rules

from leukorules import load_policy
from leukorules.cli import main
from leukorules.cli.evaluate import _validated
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.evaluation import View
from leukorules.engine.facts import load_facts_file, parse_facts_text
from leukorules.engine.result import Reason, trusted
from leukorules.engine.values import LONE_SURROGATE
from leukorules.report.json_writer import encode_value, render_json

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples" / "patients").iterdir())
BUNDLED = load_policy()
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


def _model_json(compiled: CompiledPolicy, values: dict[str, object], trace: bool) -> str | None:
    """What `--format json` printed before this writer: the pydantic result's dump (None when
    pydantic refuses to serialise it)."""
    try:
        return compiled.evaluate(values, trace=trace).model_dump_json(indent=2) + "\n"
    except pydantic_core.PydanticSerializationError:
        return None


def _example_values(path: Path) -> dict[str, object]:
    """The facts of an example patient, read and validated as `leukorules evaluate` does."""
    raw, problems = load_facts_file(path)
    assert raw is not None and not problems
    values, problems = _validated(BUNDLED, raw)
    assert not problems
    return values


def _has_exponent_float(values: dict[str, object]) -> bool:
    """A fact value Python writes with an exponent (or not finite): the writer may decline."""
    return any(
        type(v) is float and ("e" in repr(v) or not math.isfinite(v)) for v in values.values()
    )


# --- the result of every example patient ------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_every_example_patient_is_byte_identical(path: Path, trace: bool) -> None:
    values = _example_values(path)
    written = render_json(BUNDLED.evaluate_view(values, trace=trace))
    assert written is not None
    assert written == _model_json(BUNDLED, values, trace)
    assert ('\n  "trace": [' in written) is trace  # a trace not asked for is left out


def test_a_pydantic_result_is_refused() -> None:
    """Its `__dict__` is not its content before it is built: dumping it from there would be
    wrong, so the writer takes views only."""
    with pytest.raises(TypeError, match="EvaluationView"):
        render_json(BUNDLED.evaluate(_example_values(EXAMPLES[0])))


# --- generated policies and patients ----------------------------------------------------------

# Awkward text for string facts: every character but a lone surrogate (controls, NUL, CR, DEL,
# U+2028, non-BMP), and sometimes one lone surrogate.
_ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_SURROGATE_TEXT = st.tuples(_ANY_TEXT, st.characters(categories=["Cs"]), _ANY_TEXT).map("".join)


def _facts_json(facts: dict[str, object]) -> str:
    def plain(value: object) -> object:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, frozenset):
            return sorted(value)
        raise TypeError(type(value).__name__)

    return json.dumps(facts, default=plain)


def _check_cli_values(compiled: CompiledPolicy, facts: dict[str, object]) -> None:
    """Facts go through a JSON facts document and the command's validation, then both traces:
    the writer's text equals the model's, or it declined for a reason the module names."""
    raw, problems = parse_facts_text(_facts_json(facts), fmt="json")
    assert raw is not None and not problems
    values, problems = _validated(compiled, raw)
    if any(isinstance(v, str) and LONE_SURROGATE.search(v) for v in facts.values()):
        # refused before anything is evaluated (`test_facts`): nothing reaches the writer
        assert problems and {d.code for d in problems} == {"LR503"}
        return
    assert not problems, [d.message for d in problems]
    for trace in (False, True):
        expected = _model_json(compiled, values, trace)
        written = render_json(compiled.evaluate_view(values, trace=trace))
        if written is None:
            assert expected is None or _has_exponent_float(values)
        else:
            assert written == expected


@st.composite
def _policy_and_facts(draw: st.DrawFn) -> tuple[CompiledPolicy, dict[str, object]]:
    policy = draw(policies())
    facts = dict(draw(facts_for(policy)))
    for name in sorted(facts):
        if policy.facts[name].type.kind == "string" and draw(st.booleans()):
            surrogate = draw(st.integers(0, 9)) == 0
            facts[name] = draw(_SURROGATE_TEXT if surrogate else _ANY_TEXT)
    return compile_policy(policy), facts


@settings(max_examples=150, deadline=None, suppress_health_check=HEALTH)
@given(_policy_and_facts())
def test_generated_policies_and_patients(case: tuple[CompiledPolicy, dict[str, object]]) -> None:
    compiled, facts = case
    _check_cli_values(compiled, facts)


_BUNDLED_FACTS = st.fixed_dictionaries(
    {},
    optional={f.name: fact_values(f) for f in BUNDLED.policy.input_facts},
)


@settings(max_examples=100, deadline=None, suppress_health_check=HEALTH)
@given(_BUNDLED_FACTS)
def test_generated_patients_on_the_bundled_policy(facts: dict[str, object]) -> None:
    """Its facts are booleans and enums only; the patients reach every outcome."""
    _check_cli_values(BUNDLED, facts)


# --- value by value against pydantic-core -------------------------------------------------------


def _pydantic(value: object) -> str | None:
    try:
        return pydantic_core.to_json(value, indent=2).decode()
    except pydantic_core.PydanticSerializationError:
        return None


_DECIMAL_FLOATS = st.one_of(
    st.floats(1e-4, 1e16, exclude_max=True),
    st.floats(-1e16, -1e-4, exclude_min=True),
    st.sampled_from([0.0, -0.0, 12.0, 0.1, 1e15, 9999999999999998.0, 0.0001]),
)


@given(st.floats())
@example(1e16)
@example(1e-7)
@example(1e-5)
@example(9.999999999999999e-05)
@example(0.0001)
@example(12.0)
@example(0.1)
@example(math.nan)
@example(-math.inf)
def test_floats(value: float) -> None:
    """Python's repr is pydantic-core's text for every float it writes without an exponent;
    with one, the layouts differ (`1e-05` and `0.00001`, `1e-07` and `1e-7`), so those and the
    non-finite ones are declined."""
    written = encode_value(value)
    declined = "e" in repr(value) or not math.isfinite(value)
    assert (written is None) is declined
    if written is not None:
        assert written == _pydantic(value)


@given(st.one_of(st.integers(), st.integers(-(2**200), 2**200)))
@example(2**63)
@example(-(2**64) - 1)
def test_integers(value: int) -> None:
    assert encode_value(value) == _pydantic(value)


@given(st.text(st.characters(exclude_categories=())))
@example("\x7f")
@example("\u2028\u2029")
@example('\x00\x01\x1f\x08\x0c\n\r\t"\\/')
@example("é—\U0001f600\ufeff\ufffe")
@example("\ud800")
@example("a\udfffb")
def test_strings(value: str) -> None:
    """Every character, lone surrogates included: where pydantic-core refuses to encode the
    text the writer declines, and otherwise writes the same escapes."""
    assert encode_value(value) == _pydantic(value)
    assert encode_value({value: value}) == _pydantic({value: value})  # keys alike


def _nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=6), children, max_size=4)
        ),
        max_leaves=20,
    )


_WRITABLE = st.one_of(st.none(), st.booleans(), st.integers(), _DECIMAL_FLOATS, st.text(max_size=8))
_ANY_LEAF = st.one_of(
    _WRITABLE, st.floats(), st.text(st.characters(exclude_categories=()), max_size=4)
)


@given(_nested(_WRITABLE))
def test_nested_lists_and_mappings(value: object) -> None:
    """Indentation, separators, empty `[]` and `{}`, key order: as pydantic-core's."""
    written = encode_value(value)
    assert written is not None
    assert written == _pydantic(value)


@given(_nested(_ANY_LEAF))
def test_nested_values_are_identical_or_declined(value: object) -> None:
    written = encode_value(value)
    if written is not None:
        assert written == _pydantic(value)


@given(
    st.one_of(
        _WRITABLE,
        st.floats(),
        st.lists(st.text(st.characters(exclude_categories=()), max_size=4), max_size=3),
    ),
    st.none() | st.sampled_from(["mg/dL", "µmol/L"]),
)
def test_a_fact_value_as_the_result_model_writes_it(value: object, unit: str | None) -> None:
    """A `Reason` entry: the result's union of value types, and its config, which writes NaN and
    infinities as null where bare pydantic-core writes NaN: the writer declines both."""
    fields = {"fact": "x", "value": value, "unit": unit, "derived": False, "rule": None}
    written = encode_value(View(dict(fields)))
    try:
        expected: str | None = trusted(Reason, fields).model_dump_json(indent=2)
    except pydantic_core.PydanticSerializationError:
        expected = None
    if written is not None:
        assert written == expected
    else:
        assert expected is None or (isinstance(value, float) and encode_value(value) is None)


def test_types_the_engine_never_writes_are_declined() -> None:
    """pydantic would write them through its own (type-dependent) rules."""
    for value in [(1, 2), {"a"}, datetime.date(2020, 1, 1), b"x", {1: "a"}, object()]:
        assert encode_value(value) is None, value
    assert encode_value(["ok", View({"at": (1,)})]) is None


# --- the command --------------------------------------------------------------------------------


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, ["evaluate", *args], env={"NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_the_command_prints_the_model_json(path: Path, trace: bool) -> None:
    printed = _run(str(path), "--format", "json", *(["--trace"] if trace else []))
    assert printed == _model_json(BUNDLED, _example_values(path), trace)


def test_the_json_command_does_not_import_pydantic() -> None:
    args = ["evaluate", str(EXAMPLES[0]), "--format", "json", "--trace"]
    printed, modules = cli_in_a_fresh_process(args)
    assert modules == []
    assert printed == _model_json(BUNDLED, _example_values(EXAMPLES[0]), True)


# A number fact the rule reports (`because`) and a string fact the trace shows (`reads`).
NUMBER_RULES = (
    "fact level: number [mg/dL]\nfact label: string\n"
    + rule("level.high", "level > 0")
    + rule("label.named", 'label == "a"')
)


@pytest.mark.parametrize("level", [0.00001, 1e-7, 2.5e16, 0.25])
@pytest.mark.parametrize("trace", [False, True])
def test_the_command_falls_back_to_the_model_for_floats_with_an_exponent(
    tmp_path: Path, level: float, trace: bool
) -> None:
    policy = tmp_path / "policy.rules"
    policy.write_text(HEADER + NUMBER_RULES, encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"level": level, "label": "b"}), encoding="utf-8")
    compiled = load_policy(policy)
    values: dict[str, object] = {"level": level, "label": "b"}
    # the writer declines exactly the values with an exponent; the command prints the model's
    assert (render_json(compiled.evaluate_view(values, trace=trace)) is None) is (
        "e" in repr(level)
    )
    printed = _run(
        str(facts), "--policy", str(policy), "--format", "json", *(["--trace"] if trace else [])
    )
    assert printed == _model_json(compiled, values, trace)


def test_a_lone_surrogate_is_left_to_pydantic_which_refuses_it() -> None:
    # Validated facts never hold one (LR503); values handed to the engine directly can.
    compiled = compile_rules(NUMBER_RULES)
    values: dict[str, object] = {"label": "\ud800"}
    assert render_json(compiled.evaluate_view(values, trace=True)) is None
    with pytest.raises(pydantic_core.PydanticSerializationError):
        compiled.evaluate(values, trace=True).model_dump_json(indent=2)
