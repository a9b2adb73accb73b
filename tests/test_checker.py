"""The checker: loading, resolution and the logic checks, beyond what the golden files show.

Includes regression tests for checker bugs found while writing the golden diagnostics.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from support.cli import leukorules

from leukorules import model as m
from leukorules.check import check_paths, check_text
from leukorules.check.analysis import _precedence
from leukorules.check.search import SEARCH_BUDGET, SearchTooLarge, satisfying_assignment
from leukorules.diagnostics import Code
from leukorules.logic import evaluate

HEADER = """\
policy demo.checker { title "Checker" version "1.0" }
evidence 1 { citation "Example guideline, 2024" }
fact age: integer in 0..120 "Age in years"
fact seizure: bool "Seizure at presentation"
fact mri: enum { normal, abnormal } "Brain MRI result"
derived risk: enum { low, high } "Risk level"
"""


def rule(rule_id: str, *body: str) -> str:
    return (
        f'rule {rule_id} {{\n  statement "s"\n  evidence 1\n'
        + "".join(f"  {line}\n" for line in body)
        + "}\n"
    )


def codes(text: str) -> list[str]:
    return [d.code for d in check_text(text).diagnostics]


def errors(text: str) -> list[str]:
    return [d.code for d in check_text(text).diagnostics if d.severity.label == "error"]


# --- satisfiability ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        "not seizure is unknown",
        "seizure is known and seizure",
        "not (seizure is unknown or age is unknown) and age > 3",
        "mri is known and not (mri == normal)",
    ],
)
def test_known_tests_do_not_make_a_satisfiable_condition_look_impossible(condition: str) -> None:
    # Regression: the search pruned as soon as a partial assignment was false, but `x is known`
    # is definitely false while x is still undecided; it reported LR404 on valid rules.
    text = HEADER + rule("r", f"when {condition}", "note")
    assert "LR404" not in codes(text)


@pytest.mark.parametrize(
    "condition",
    [
        "seizure is known and seizure is unknown",
        "seizure is unknown and seizure",
        "age is unknown and age > 3",
        "age < 18 and age > 65",
        "mri == normal and mri == abnormal",
        "not (mri == normal or mri != normal) and mri is known",
    ],
)
def test_impossible_conditions_are_still_found(condition: str) -> None:
    text = HEADER + rule("r", f"when {condition}", "note")
    assert "LR404" in codes(text)


def test_satisfying_assignment_is_a_real_witness() -> None:
    result = check_text(
        HEADER + rule("r", "when seizure is known and not seizure and age > 3", "note")
    )
    assert result.policy is not None
    condition = result.policy.rule("r").when
    found = satisfying_assignment(condition, result.policy.facts)
    assert found is not None
    assert evaluate(condition, found) is True
    assert found["seizure"] is False


def test_search_budget_is_enforced() -> None:
    facts = {
        f"f{i}": m.Fact(f"f{i}", m.FactType("integer", minimum=0, maximum=100)) for i in range(5)
    }
    members = [m.Member(f"f{i}", tuple(range(1, 41))) for i in range(5)]
    impossible = m.And((*members, m.Compare("f0", "==", 1), m.Compare("f0", "==", 2)))
    with pytest.raises(SearchTooLarge):
        satisfying_assignment(impossible, facts)
    assert SEARCH_BUDGET == 200_000


# --- conflicts and sequencing -----------------------------------------------------------------


def test_after_is_part_of_the_conflict_condition() -> None:
    text = (
        HEADER
        + rule("high", "when seizure", "derive risk = high")
        + rule("gate", "when not seizure", "note")
        + rule("low", "after gate", "derive risk = low")
    )
    assert "LR405" not in codes(text)
    without_after = text.replace("  after gate\n", "")
    assert "LR405" in codes(without_after)


def test_overrides_settles_a_conflict_transitively() -> None:
    text = (
        HEADER
        + rule("a", "when seizure", "derive risk = high", "overrides b")
        + rule("b", "when seizure", "derive risk = low", "overrides c")
        + rule("c", "when seizure", "derive risk = high")
    )
    # a > b > c: a and c derive the same value, b is beaten by a and beats c
    assert "LR405" not in codes(text)


def test_conflict_scenario_names_a_patient_that_fires_both() -> None:
    text = (
        HEADER
        + rule("high", "when age >= 18 and mri == abnormal", "derive risk = high")
        + rule("low", "when not seizure and age < 40", "derive risk = low")
    )
    (conflict,) = [d for d in check_text(text).diagnostics if d.code == "LR405"]
    assert conflict.hint is not None
    scenario = yaml.safe_load(conflict.hint.split("as a scenario:\n", 1)[1])
    assert scenario == [
        {
            "name": "high and low both derive risk",
            "facts": {"age": 18, "mri": "abnormal", "seizure": False},
            "expect": {"fired": ["high", "low"]},
        }
    ]
    facts = scenario[0]["facts"]
    policy = check_text(text.replace("derive risk = low", 'note "x"')).policy
    assert policy is not None
    for rule_id in ("high", "low"):
        assert evaluate(policy.rule(rule_id).when, facts) is True


def test_precedence_closure_is_transitive() -> None:
    rules = {
        r: m.Rule(r, "s", ("1",), m.Const(True), m.StateNote("note"), overrides=o)
        for r, o in {"a": ("b",), "b": ("c",), "c": ("d",), "d": (), "x": ("a",)}.items()
    }
    closure = _precedence(rules)
    assert closure == {
        ("x", "a"),
        ("x", "b"),
        ("x", "c"),
        ("x", "d"),
        ("a", "b"),
        ("a", "c"),
        ("a", "d"),
        ("b", "c"),
        ("b", "d"),
        ("c", "d"),
    }


def test_rules_overriding_each_other_are_reported_once() -> None:
    text = (
        HEADER
        + rule("a", "when seizure", 'recommend "x"', "overrides b")
        + rule("b", "when seizure", 'recommend "y"', "overrides a")
    )
    assert errors(text) == ["LR410"]


def test_a_longer_override_cycle_is_a_cycle() -> None:
    text = (
        HEADER
        + rule("a", "when seizure", 'recommend "x"', "overrides b")
        + rule("b", "when seizure", 'recommend "y"', "overrides c")
        + rule("c", "when seizure", 'recommend "z"', "overrides a")
    )
    assert errors(text) == ["LR403"]


# --- resolution -------------------------------------------------------------------------------


def test_duplicate_when_is_still_checked_and_counts_its_facts_as_used() -> None:
    text = HEADER + rule("r", "when seizure", "when age > 3 and mri == abnormall", "note")
    found = codes(text)
    assert "LR207" in found
    assert "LR301" in found  # the second `when` is type checked too
    assert "LR406" not in found  # and `age` is read by it


def test_duplicate_field_hints_fit_the_field() -> None:
    hints = {
        d.message.split("`")[1]: d.hint
        for d in check_text(
            HEADER + rule("r", "when seizure", "when mri == normal", 'note "a"', 'note "b"')
        ).diagnostics
        if d.code == "LR207"
    }
    assert hints == {
        "when": "combine the conditions in one `when` with `and`",
        "note": "a rule has one `note`",
    }


def test_a_rule_is_never_suggested_as_its_own_target() -> None:
    text = HEADER + rule("seizure.refer", "after seizure.refr", "note")
    (diagnostic,) = [d for d in check_text(text).diagnostics if d.code == "LR203"]
    assert diagnostic.hint is None or "seizure.refer" not in diagnostic.hint


def test_fact_types_are_described_in_plain_words() -> None:
    text = (
        HEADER
        + "fact weight: number [kg] in 0..300\n"
        + rule("r", 'when age == "x" or weight == true', "note")
    )
    messages = [d.message for d in check_text(text).diagnostics if d.code == "LR302"]
    assert messages == [
        '`age` is an integer fact (0..120); `"x"` is not a number',
        "`weight` is a number fact in [kg] (0..300); `true` is not a number",
    ]


# --- loading ----------------------------------------------------------------------------------


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_folder_whose_files_only_include_each_other_reports_the_cycle(tmp_path: Path) -> None:
    # Regression: every file was "included by another", so the folder had no root and the check
    # passed without reading anything.
    write(tmp_path, {"a.rules": 'include "b.rules"\n' + HEADER, "b.rules": 'include "a.rules"\n'})
    result = check_paths([tmp_path])
    assert [d.code for d in result.diagnostics if d.severity.label == "error"] == ["LR121"]
    assert len(result.sources) == 2


def test_includes_of_a_file_with_syntax_errors_are_still_parsed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.rules": HEADER + 'include "part.rules"\nfact broken: bool = true\n',
            "part.rules": "rule r { statement 'x' evidence 1 note }\n",
        },
    )
    result = check_paths([tmp_path / "main.rules"])
    assert result.policy is None
    assert [(Path(d.span.file).name, d.code) for d in result.diagnostics if d.span] == [
        ("main.rules", "LR110"),
        ("part.rules", "LR111"),
    ]


def test_shared_module_is_loaded_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.rules": 'include "common.rules"\ninclude "more.rules"\n'
            + HEADER.split("\n", 1)[0],
            "common.rules": HEADER.split("\n", 1)[1],
            "more.rules": 'include "common.rules"\n' + rule("r", "when seizure", "note"),
        },
    )
    result = check_paths([tmp_path / "main.rules"])
    assert not [d for d in result.diagnostics if d.code == "LR204"]
    assert result.policy is not None
    assert len(result.policy.sources) == 3


def test_a_policy_with_only_warnings_and_notes_is_returned() -> None:
    text = (
        HEADER
        + "fact unused: bool\n"
        + rule("r", "when seizure and mri == normal and age > 3", "derive risk = high")
    )
    result = check_text(text)
    assert result.policy is not None
    assert sorted(d.code for d in result.diagnostics) == ["LR406"]


# --- the language reference's examples ------------------------------------------------------

REPO = Path(__file__).resolve().parent.parent
LANGUAGE_DOC = REPO / "docs" / "language.md"
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```", re.M | re.S)


def doc_blocks() -> list[tuple[str, str, str]]:
    """(language, info after the language, body) of every top-level fenced block."""
    text = LANGUAGE_DOC.read_text(encoding="utf-8")
    return [(lang, info.strip(), body) for lang, info, body in FENCE.findall(text)]


def test_complete_examples_in_the_language_reference_pass_the_check() -> None:
    complete = [body for lang, info, body in doc_blocks() if lang == "rules" and info == "complete"]
    assert len(complete) >= 3
    for body in complete:
        result = check_text(body, "example.rules")
        problems = [d for d in result.diagnostics if d.severity.label != "info"]
        assert not problems, [f"{d.span}: {d.message}" for d in problems]
        assert result.policy is not None


def test_failing_examples_in_the_language_reference_fail_with_their_code() -> None:
    failing = [
        (info.split()[1], body)
        for lang, info, body in doc_blocks()
        if lang == "rules" and info.startswith("fails ")
    ]
    assert len(failing) >= 3
    for code, body in failing:
        assert errors(body) == [code], (code, codes(body))


def test_every_rules_fragment_in_the_language_reference_is_valid_syntax() -> None:
    from leukorules.source import SourceFile
    from leukorules.syntax.parser import parse

    fragments = [body for lang, _, body in doc_blocks() if lang == "rules"]
    assert len(fragments) >= 15
    for body in fragments:
        module, diagnostics = parse(SourceFile.from_text("fragment.rules", body))
        assert module is not None, [d.message for d in diagnostics]


def test_console_examples_in_the_language_reference_show_real_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.chdir(tmp_path)
    blocks = doc_blocks()
    shown = 0
    for index, (lang, _, body) in enumerate(blocks):
        command, _, expected = body.partition("\n")
        if lang != "console" or not command.startswith("$ leukorules check "):
            continue
        name = command.removeprefix("$ leukorules check ")
        example = next(
            b for lg, info, b in reversed(blocks[:index]) if lg == "rules" and info == "complete"
        )
        (tmp_path / name).write_text(example, encoding="utf-8")
        result = leukorules("check", name)
        assert result.stdout == expected
        shown += 1
    assert shown >= 2


def test_diagnostic_output_in_the_language_reference_is_a_golden_file() -> None:
    quoted = [body for lang, _, body in doc_blocks() if lang == "text" and "[LR" in body]
    assert quoted
    for body in quoted:
        case = body.split(":", 1)[0]
        golden = REPO / Path(case).with_suffix(".expected")
        assert body == golden.read_text(encoding="utf-8"), case


def test_language_reference_lists_every_diagnostic_code() -> None:
    rows = re.findall(
        r"^\| (LR\d{3}) \| (\w+) \| ([^|]+) \|", LANGUAGE_DOC.read_text(encoding="utf-8"), re.M
    )
    assert {code: (severity, meaning.strip()) for code, severity, meaning in rows} == {
        code: (code.severity.label, code.description) for code in Code
    }


def test_language_reference_lists_the_strength_vocabulary() -> None:
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", LANGUAGE_DOC.read_text(encoding="utf-8"), re.M)
    table = {name: printed.strip() for name, printed in rows if name in m.STRENGTHS}
    expected = {name: printed for name, printed in m.STRENGTHS.items()}
    expected["unqualified"] = "no strength stated (the default when `strength` is left out)"
    assert table == expected


@pytest.mark.parametrize(
    ("declaration", "condition", "satisfiable"),
    [
        ("fact c: number in 0.5..20", "c is known", True),
        ("fact c: number in 0.5..20", "c > 0.5 and c < 0.7", True),
        ("fact c: integer", "c > 2.5 and c < 3.5", True),
        ("fact c: integer", "c > 2.5 and c < 2.9", False),
        ("fact c: integer in 0..10", "c > 9", True),
        ("fact c: integer in 0..10", "c > 10", False),
    ],
)
def test_numeric_satisfiability_respects_ranges_and_whole_numbers(
    declaration: str, condition: str, satisfiable: bool
) -> None:
    text = (
        'policy p { title "t" version "1" }\nevidence 1 { citation unknown }\n'
        f'{declaration}\nrule r {{ statement "s" evidence 1 when {condition} note }}\n'
    )
    codes = [d.code for d in check_text(text).diagnostics]
    assert ("LR404" in codes) is (not satisfiable), codes
