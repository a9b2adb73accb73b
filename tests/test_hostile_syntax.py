"""Hostile policy text: string escapes, numbers out of range, and fuzzing of the policy reader.

- A string knows four escapes (`\\"`, `\\\\`, `\\n`, `\\t`); any other is LR115 at its place, so
  `fmt` can never change what a string says (it once turned `\\u2265` into `u2265` and `C:\\data`
  into `C:data`). Property: format, re-parse, the same string values.
- A number must be a finite double, and not so small that it reads as 0: LR116 at the number,
  on every path a number takes (ranges, comparisons, `in`, `derive`, `line`, units), instead of
  an OverflowError (1e309) or a ValueError (over 4,300 digits) from the checker.
- Fuzzing: mutated policies and random strings and numbers only ever give diagnostics.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.profiles import examples
from support.watchdog import watchdog
from test_robustness import VALID, mutated

from leukorules.check import check_text
from leukorules.diagnostics import Code, Severity, has_errors, render_json, render_text
from leukorules.source import SourceFile
from leukorules.syntax import ast
from leukorules.syntax.formatter import format_source
from leukorules.syntax.literals import ESCAPES, MAX_LITERAL_PROBLEMS
from leukorules.syntax.parser import parse


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    with watchdog(120):
        yield


def strings_of(node: object) -> list[str]:
    """Every string value of a syntax tree, in tree order."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.StringLit):
            found.append(item.value)
        elif isinstance(item, tuple | list):
            stack.extend(reversed(item))
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            stack.extend(
                reversed(
                    [getattr(item, f.name) for f in dataclasses.fields(item) if f.name != "span"]
                )
            )
    return found


def codes(text: str) -> list[str]:
    return [
        str(d.code) for d in check_text(text, "p.rules").diagnostics if d.severity is Severity.ERROR
    ]


# --- escapes ------------------------------------------------------------------------------------

POLICY = """\
policy demo.escapes {{ title "{title}" version "1.0" }}
evidence 1 {{ citation "c" }}
fact path: string "{description}"
rule r {{
  statement "{statement}"
  evidence 1
  when path == "{compared}"
  recommend "{action}"
}}
"""


def test_the_examples_from_the_issue_are_refused_where_they_stand() -> None:
    text = POLICY.format(
        title="t", description="d", statement="HbA1c \\u2265 7", compared="C:\\data", action="a"
    )
    result = check_text(text, "p.rules")
    found = [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics if d.span]
    assert found == [
        (Code.LR115, 5, 20, "unknown escape `\\u2265` in a string: strings have no \\u escapes"),
        (Code.LR115, 7, 19, "unknown escape `\\d` in a string"),
    ]
    assert result.policy is None
    formatted, diagnostics = format_source(text, "p.rules")
    assert formatted is None and len(diagnostics) == 2


def test_fmt_leaves_a_file_with_an_unknown_escape_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "p.rules"
    text = POLICY.format(title="t", description="d", statement="s \\q", compared="x", action="a")
    path.write_text(text)
    result = leukorules("fmt", str(path))
    assert result.exit_code == 1
    assert "unknown escape `\\q`" in result.output and "left unchanged" in result.output
    assert path.read_text() == text


def test_an_escape_in_a_file_with_syntax_errors_is_reported_with_them() -> None:
    text = 'policy p { title "a\\qb" version "1.0"\nrule = }\n'
    found = sorted({str(d.code) for d in check_text(text).diagnostics})
    assert found == ["LR110", "LR115"]


def test_the_known_escapes_mean_what_the_docs_say() -> None:
    text = POLICY.format(
        title='say \\"hi\\"', description="a\\\\b", statement="x\\ny", compared="\\t", action="a"
    )
    module, diagnostics = parse(SourceFile.from_text("p.rules", text))
    assert diagnostics == [] and module is not None
    assert strings_of(module.items)[:5] == ['say "hi"', "1.0", "c", "a\\b", "x\ny"]
    assert set(ESCAPES) == {'"', "\\", "n", "t"}


def test_a_runaway_number_of_bad_escapes_gets_the_first_few() -> None:
    text = POLICY.format(
        title="\\q" * 10_000, description="d", statement="s", compared="x", action="a"
    )
    found = codes(text)
    assert found == ["LR115"] * MAX_LITERAL_PROBLEMS


# Pieces of a string body as written between the quotes: plain characters and backslash pairs,
# known and unknown.
_PLAIN = st.characters(exclude_categories=("Cs",), exclude_characters='"\\\n\x00')
_PIECE = st.one_of(
    _PLAIN,
    st.sampled_from(['\\"', "\\\\", "\\n", "\\t"]),
    st.sampled_from(["\\u2265", "\\d", "\\q", "\\0", "\\ ", "\\é", "\\\r", "\\u12"]),
)
_BODY = st.lists(_PIECE, max_size=12).map("".join)


def meaning(body: str) -> str | None:
    """What a string body says, or None when it holds an unknown escape."""
    out: list[str] = []
    pieces = iter(re.findall(r"\\.|[^\\]", body, re.S))
    for piece in pieces:
        if piece.startswith("\\"):
            if piece[1] not in ESCAPES:
                return None
            out.append(ESCAPES[piece[1]])
        else:
            out.append(piece)
    return "".join(out)


@settings(max_examples=examples(200))
@given(st.lists(_BODY, min_size=5, max_size=5))
@example(["\\u2265", "C:\\\\data", "a\\\\u2265", "\\\\\\\\", 'say \\"x\\"'])
def test_formatting_never_changes_what_a_string_says(bodies: list[str]) -> None:
    title, description, statement, compared, action = bodies
    text = POLICY.format(
        title=title, description=description, statement=statement, compared=compared, action=action
    )
    meant = [meaning(b) for b in bodies]
    module, diagnostics = parse(SourceFile.from_text("p.rules", text))
    formatted, _ = format_source(text, "p.rules")
    if any(m is None for m in meant):
        assert module is None and formatted is None
        assert diagnostics and {d.code for d in diagnostics} == {Code.LR115}
        return
    assert module is not None and formatted is not None, diagnostics
    again, _ = parse(SourceFile.from_text("p.rules", formatted))
    assert again is not None
    expected = [meant[0], "1.0", "c", meant[1], meant[2], meant[3], meant[4]]
    assert strings_of(module.items) == expected
    assert sorted(strings_of(again.items)) == sorted(expected)


# --- numbers ------------------------------------------------------------------------------------

BIG = "1" + "0" * 309  # 1e309: the example of the issue

NUMBER_POLICY = """\
policy demo.numbers {{ title "Numbers" version "1.0" }}
evidence 1 {{ citation "c" }}
fact dose: number [mg] in {low}..{high} "Dose"
fact age: integer "Age"
derived level: number "Level"
rule r {{
  statement "s"
  evidence 1
  when dose > {compared} [mg] and age in {{1, {member}}}
  derive level = {derived}
}}
rule q {{
  statement "t"
  evidence 1
  after r
  when level >= 1
  recommend "x"
  line {line}
}}
"""
PATHS = ("low", "high", "compared", "member", "derived", "line")
DEFAULTS = {"low": "0", "high": "1000", "compared": "5", "member": "2", "derived": "3", "line": "2"}


@pytest.mark.parametrize("where", PATHS)
@pytest.mark.parametrize("number", [BIG, "-" + BIG, "9" * 5000, "0." + "0" * 400 + "1"])
def test_a_number_out_of_range_is_located_on_every_path(where: str, number: str) -> None:
    text = NUMBER_POLICY.format(**{**DEFAULTS, where: number})
    result = check_text(text, "p.rules")  # no OverflowError, no ValueError
    found = [(d.code, d.span.line) for d in result.diagnostics if d.code == Code.LR116 and d.span]
    line = {"low": 3, "high": 3, "compared": 9, "member": 9, "derived": 10, "line": 18}[where]
    assert found == [(Code.LR116, line)]
    assert result.policy is None


def test_the_largest_double_and_the_smallest_are_still_numbers() -> None:
    largest = str(int(1.7976931348623157e308))
    text = NUMBER_POLICY.format(**{**DEFAULTS, "high": largest, "compared": "0." + "0" * 300 + "1"})
    assert Code.LR116 not in codes(text)


_NUMBER = st.builds(
    lambda sign, whole, fraction: sign + whole + ("." + fraction if fraction else ""),
    st.sampled_from(["", "-"]),
    st.one_of(st.from_regex(r"\A[0-9]{1,3}\Z"), st.from_regex(r"\A[0-9]{300,320}\Z")),
    st.one_of(st.just(""), st.from_regex(r"\A[0-9]{1,3}\Z"), st.from_regex(r"\A0{300,330}[1-9]\Z")),
)


@settings(max_examples=examples(60))
@given(st.sampled_from(PATHS), _NUMBER)
def test_any_number_on_any_path_gives_diagnostics_never_an_exception(
    where: str, number: str
) -> None:
    if where in ("low", "member", "line") and number.startswith("-"):
        number = number[1:]
    text = NUMBER_POLICY.format(**{**DEFAULTS, where: number})
    result = check_text(text, "p.rules")
    value = float(number)
    out_of_range = not math.isfinite(value) or (value == 0 and re.search("[1-9]", number))
    assert (Code.LR116 in {d.code for d in result.diagnostics}) == bool(out_of_range)


# --- fuzzing the policy reader ------------------------------------------------------------------


@settings(max_examples=examples(150))
@given(mutated(), st.lists(st.sampled_from(["\\u2265", "\\q", BIG, "1e309", "\\"]), max_size=3))
def test_mutated_policies_with_bad_literals_only_ever_give_diagnostics(
    text: str, inserts: list[str]
) -> None:
    for index, insert in enumerate(inserts):
        position = (len(text) * (index + 1)) // (len(inserts) + 1)
        text = text[:position] + insert + text[position:]
    result = check_text(text, "mutant.rules")
    assert result.ok == (not has_errors(result.diagnostics))
    render_text(result.diagnostics, result.sources)
    render_json(result.diagnostics)
    formatted, _ = format_source(text, "mutant.rules")
    if formatted is not None:
        before, _ = parse(SourceFile.from_text("m.rules", text))
        after, _ = parse(SourceFile.from_text("m.rules", formatted))
        assert before is not None and after is not None
        assert sorted(strings_of(before.items)) == sorted(strings_of(after.items))


def test_the_base_policy_of_the_fuzzer_is_valid() -> None:
    assert check_text(VALID, "p.rules").ok
