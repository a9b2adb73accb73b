"""`leukorules.result.serialize`: the one writer of every result's JSON.

Results were pydantic models once, written by pydantic-core; every logged result since then must
replay to the same bytes, so the writer is held to pydantic-core's bytes: on every example
patient, on generated policies and patients (the records dumped by pydantic's own adapter), and
value by value. The command line writes results without importing pydantic at all.
"""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from strategies import fact_values, facts_for, policies
from support.cli import in_a_fresh_process, leukorules
from support.policies import HEADER, compiled_rules, rule
from support.profiles import examples

from leukorules import FactsError, load_policy
from leukorules.engine.compile import CompiledPolicy, compile_policy
from leukorules.engine.facts_file import load_facts_file, parse_facts_text
from leukorules.engine.values import LONE_SURROGATE
from leukorules.result import Evaluation, Reason
from leukorules.result.serialize import to_json

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples" / "patients").iterdir())
BUNDLED = load_policy()
ADAPTER: pydantic.TypeAdapter[Evaluation] = pydantic.TypeAdapter(Evaluation)


def _pydantic_result(evaluation: Evaluation, indent: int | None = 2) -> str:
    """The result as pydantic-core writes the same records (a trace not asked for, and the
    provenance of facts that came from no health record, left out)."""
    left_out = {name for name in Evaluation.omitted_when_none if getattr(evaluation, name) is None}
    exclude = left_out or None
    return ADAPTER.dump_json(evaluation, indent=indent, exclude=exclude).decode()


def _example_values(path: Path) -> dict[str, object]:
    """The facts of an example patient, read and validated as `leukorules evaluate` does."""
    raw, problems = load_facts_file(path)
    assert raw is not None and not problems
    values, problems = BUNDLED.check_facts(raw)
    assert values is not None and not problems
    return dict(values)


# --- the result of every example patient ------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_every_example_patient_is_written_as_pydantic_writes_it(path: Path, trace: bool) -> None:
    evaluation = BUNDLED.evaluate(_example_values(path), trace=trace)
    written = evaluation.to_json(indent=2)
    assert written == _pydantic_result(evaluation)
    assert evaluation.to_json() == _pydantic_result(evaluation, indent=None)
    assert ('\n  "trace": [' in written) is trace  # a trace not asked for is left out


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
    the writer's text equals pydantic-core's for the same records."""
    raw, problems = parse_facts_text(_facts_json(facts), fmt="json")
    assert raw is not None and not problems
    values, problems = compiled.check_facts(raw)
    if values is None and {d.code for d in problems} == {"LR508"}:
        return  # facts that contradict each other: refused, nothing reaches the writer
    if any(isinstance(v, str) and LONE_SURROGATE.search(v) for v in facts.values()):
        # refused before anything is evaluated (`test_facts`): nothing reaches the writer
        assert problems and {d.code for d in problems} == {"LR503"}
        return
    assert values is not None, [d.message for d in problems]
    for trace in (False, True):
        evaluation = compiled.evaluate(values, trace=trace)
        assert evaluation.to_json(indent=2) == _pydantic_result(evaluation)


@st.composite
def _policy_and_facts(draw: st.DrawFn) -> tuple[CompiledPolicy, dict[str, object]]:
    policy = draw(policies())
    facts = dict(draw(facts_for(policy)))
    for name in sorted(facts):
        if policy.facts[name].type.kind == "string" and draw(st.booleans()):
            surrogate = draw(st.integers(0, 9)) == 0
            facts[name] = draw(_SURROGATE_TEXT if surrogate else _ANY_TEXT)
    return compile_policy(policy), facts


@settings(max_examples=examples(100))
@given(_policy_and_facts())
def test_generated_policies_and_patients(case: tuple[CompiledPolicy, dict[str, object]]) -> None:
    compiled, facts = case
    _check_cli_values(compiled, facts)


_BUNDLED_FACTS = st.fixed_dictionaries(
    {},
    optional={f.name: fact_values(f) for f in BUNDLED.policy.input_facts},
)


@settings(max_examples=examples(100))
@given(_BUNDLED_FACTS)
def test_generated_patients_on_the_bundled_policy(facts: dict[str, object]) -> None:
    """Its facts are booleans and enums only; the patients reach every outcome."""
    _check_cli_values(BUNDLED, facts)


# --- value by value against pydantic-core -------------------------------------------------------


def _pydantic(value: object, indent: int | None = 2) -> str | None:
    """pydantic-core's text, with NaN and infinities written null as result models wrote them."""
    try:
        return pydantic_core.to_json(value, indent=indent, inf_nan_mode="null").decode()
    except pydantic_core.PydanticSerializationError:
        return None


def _ours(value: object, indent: int | None = 2) -> str | None:
    try:
        return to_json(value, indent)
    except ValueError:
        return None


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
    """Python's repr is pydantic-core's text for every float without an exponent; floats with
    one (and non-finite ones) are written by pydantic-core itself."""
    assert _ours(value) == _pydantic(value)


@given(st.one_of(st.integers(), st.integers(-(2**200), 2**200)))
@example(2**63)
@example(-(2**64) - 1)
def test_integers(value: int) -> None:
    assert _ours(value) == _pydantic(value)


@given(st.text(st.characters(exclude_categories=())))
@example("\x7f")
@example("\u2028\u2029")
@example('\x00\x01\x1f\x08\x0c\n\r\t"\\/')
@example("é—\U0001f600\ufeff\ufffe")
@example("\ud800")
@example("a\udfffb")
def test_strings(value: str) -> None:
    """Every character, lone surrogates included: where pydantic-core refuses to encode the
    text the writer refuses too, and otherwise writes the same escapes."""
    assert _ours(value) == _pydantic(value)
    assert _ours({value: value}) == _pydantic({value: value})  # keys alike


def _nested(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=6), children, max_size=4)
        ),
        max_leaves=20,
    )


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(st.characters(exclude_categories=()), max_size=4),
)


@given(_nested(_LEAVES), st.sampled_from([None, 2]))
def test_nested_lists_and_mappings(value: object, indent: int | None) -> None:
    """Indentation, separators, empty `[]` and `{}`, key order: as pydantic-core's."""
    assert _ours(value, indent) == _pydantic(value, indent)


@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=4),
        st.lists(st.text(max_size=4), max_size=3).map(tuple),
    ),
    st.none() | st.sampled_from(["mg/dL", "µmol/L"]),
)
def test_a_fact_value_as_a_record_holds_it(value: Any, unit: str | None) -> None:
    reason = Reason(fact="x", value=value, unit=unit)
    adapter: pydantic.TypeAdapter[Reason] = pydantic.TypeAdapter(Reason)
    assert to_json(reason, 2) == adapter.dump_json(reason, indent=2).decode()


def test_values_no_result_holds_are_refused() -> None:
    for value in [{"a"}, datetime.date(2020, 1, 1), b"x", {1: "a"}, object()]:
        with pytest.raises(TypeError):
            to_json(value, 2)


# --- the command --------------------------------------------------------------------------------


def _run(*args: str) -> str:
    result = leukorules("evaluate", *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("trace", [False, True])
def test_the_command_prints_the_result_json(path: Path, trace: bool) -> None:
    printed = _run(str(path), "--format", "json", *(["--trace"] if trace else []))
    evaluation = BUNDLED.evaluate(_example_values(path), trace=trace)
    assert printed == _pydantic_result(evaluation) + "\n"


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_the_command_does_not_import_pydantic(output_format: str) -> None:
    args = ["evaluate", str(EXAMPLES[0]), "--format", output_format, "--trace"]
    printed, modules = in_a_fresh_process(args)
    assert modules == []
    assert printed


# A number fact the rule reports (`because`) and a string fact the trace shows (`reads`).
NUMBER_RULES = (
    "fact level: number [mg/dL]\nfact label: string\n"
    + rule("level.high", "level > 0")
    + rule("label.named", 'label == "a"')
)


@pytest.mark.parametrize("level", [0.00001, 1e-7, 2.5e16, 0.25])
@pytest.mark.parametrize("trace", [False, True])
def test_floats_with_an_exponent_are_written_as_pydantic_writes_them(
    tmp_path: Path, level: float, trace: bool
) -> None:
    policy = tmp_path / "policy.rules"
    policy.write_text(HEADER + NUMBER_RULES, encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"level": level, "label": "b"}), encoding="utf-8")
    compiled = load_policy(policy)
    printed = _run(
        str(facts), "--policy", str(policy), "--format", "json", *(["--trace"] if trace else [])
    )
    evaluation = compiled.evaluate({"level": level, "label": "b"}, trace=trace)
    assert printed == _pydantic_result(evaluation) + "\n"


def test_a_lone_surrogate_never_reaches_the_writer() -> None:
    # Facts holding one are refused (LR503) before anything is evaluated; the writer refuses
    # such text too (`test_strings`).
    compiled = compiled_rules(NUMBER_RULES)
    with pytest.raises(FactsError, match="LR503"):
        compiled.evaluate({"label": "\ud800"}, trace=True)


# --- shared records written from memory ----------------------------------------------------------


@settings(max_examples=examples(50))
@given(st.lists(_BUNDLED_FACTS, min_size=2, max_size=6), st.integers(1, 40))
def test_a_result_reads_the_same_whether_its_shared_records_were_written_before_or_not(
    patients: list[dict[str, object]], memo_size: int
) -> None:
    """Records shared between results are written from a memo keyed by identity and
    indentation; a small memo fills and starts again. Every text equals one written afresh."""
    from leukorules.result import serialize

    valid = [values for p in patients if (values := BUNDLED.check_facts(p)[0]) is not None]
    results = [BUNDLED.evaluate(values, trace=True) for values in valid]
    assume(results)  # patients whose facts contradict each other are refused
    fresh = []
    for result in results:
        serialize._FRAGMENTS.clear()
        fresh.append((result.to_json(indent=2), result.to_json(), result.to_json(indent=4)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serialize, "_FRAGMENTS_SIZE", memo_size)
        for _ in range(2):
            for result, (pretty, compact, wide) in zip(results, fresh, strict=True):
                assert result.to_json(indent=2) == pretty
                assert result.to_json() == compact
                assert result.to_json(indent=4) == wide
    assert json.loads(fresh[0][1]) == json.loads(fresh[0][0])
