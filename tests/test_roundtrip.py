"""Round-trip properties: model -> text -> model, and formatting never changes what a policy says.

Policies come from `tests/strategies.py` (valid by construction). Layout is perturbed line by
line (indentation, joined lines, blank lines, comments), which is always lexically safe because
no token spans a line break.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import policies
from support.policies import checked
from support.profiles import examples

from leukorules import model as m
from leukorules.check import check_text
from leukorules.syntax.formatter import format_source
from leukorules.syntax.render import render_policy

GOLDEN = sorted((Path(__file__).parent / "formatter").glob("*.rules"))


def fmt(text: str) -> str:
    formatted, diagnostics = format_source(text, "p.rules")
    assert formatted is not None, diagnostics
    return formatted


@st.composite
def relaid(draw: st.DrawFn, text: str, comments: bool) -> tuple[str, list[str]]:
    """`text` with each line re-indented, possibly joined to the next, and (with `comments`)
    blank lines, full-line comments and trailing comments added. Returns the new text and the
    comments added."""
    lines = text.split("\n")
    out: list[str] = []
    added: list[str] = []
    joined = False
    for index, line in enumerate(lines):
        indent = draw(st.sampled_from(["", " ", "  ", "\t", "      ", " \t "]))
        piece = indent + line.strip()
        if joined:  # this line continues the previous one
            out[-1] += piece
            joined = False
        else:
            if comments and draw(st.integers(0, 5)) == 0:
                note = f"# full {len(added)}"
                added.append(note)
                out.append(indent + note)
            if comments and draw(st.integers(0, 7)) == 0:
                out.append(draw(st.sampled_from(["", "   ", "\t"])))
            out.append(piece)
        if comments and line.strip() and draw(st.integers(0, 4)) == 0:
            note = f"# trailing {len(added)}"
            added.append(note)
            out[-1] += draw(st.sampled_from([" ", "", "\t"])) + note
        elif index + 1 < len(lines) and draw(st.integers(0, 3)) == 0:
            out[-1] += draw(st.sampled_from([" ", "\t", "  "]))
            joined = True
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(out), added


def token_gaps(text: str) -> list[int]:
    """Offsets of whitespace outside strings, comments and units (`[ mg/dL ]` is one token):
    where a comment may be inserted."""
    gaps: list[int] = []
    in_string = in_comment = in_unit = escaped = False
    for offset, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif in_unit:
            in_unit = char != "]"
        elif in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            in_string = True
        elif char == "#":
            in_comment = True
        elif char == "[":
            in_unit = True
        elif char in " \t\n":
            gaps.append(offset)
    return gaps


@st.composite
def commented(draw: st.DrawFn, text: str) -> tuple[str, list[str]]:
    """`text` with comments between any two tokens: after code, or on lines of their own."""
    gaps = token_gaps(text)
    spots = sorted(set(draw(st.lists(st.sampled_from(gaps), max_size=12)))) if gaps else []
    pieces: list[str] = []
    added: list[str] = []
    last = 0
    for spot in spots:
        note = f"#c{len(added)}"
        added.append(note)
        form = draw(st.sampled_from([" {}\n", "\n{}\n", "\n\n  {}\n\n"]))
        pieces += [text[last:spot], form.format(note)]
        last = spot
    pieces.append(text[last:])
    return "".join(pieces), added


@settings(max_examples=examples(60))
@given(policies(max_constraints=2))
def test_rendered_policy_checks_back_to_the_same_policy(policy: m.Policy) -> None:
    assert checked(render_policy(policy)) == policy


@settings(max_examples=examples(30))
@given(policies(max_leaves=10, max_constraints=2))
def test_rendered_text_is_already_formatted(policy: m.Policy) -> None:
    text = render_policy(policy)
    assert fmt(text) == text


@settings(max_examples=examples(30))
@given(st.data())
def test_layout_does_not_matter(data: st.DataObject) -> None:
    """Indentation, line breaks and line endings are all formatted away."""
    policy = data.draw(policies(max_leaves=10, max_constraints=2))
    text = render_policy(policy)
    messy, _ = data.draw(relaid(text, comments=False))
    assert fmt(messy) == text


@settings(max_examples=examples(40))
@given(st.data())
def test_formatting_keeps_the_model_and_the_comments(data: st.DataObject) -> None:
    policy = data.draw(policies(max_rules=4, max_leaves=10))
    messy, added = data.draw(relaid(render_policy(policy), comments=True))
    formatted = fmt(messy)
    assert fmt(formatted) == formatted
    assert checked(formatted) == policy
    for note in added:
        assert note in formatted


@settings(max_examples=examples(50))
@given(st.data())
def test_comments_between_any_two_tokens_are_kept_and_formatting_settles(
    data: st.DataObject,
) -> None:
    """Comments inside conditions, declarations and block heads: each is kept, the model is
    unchanged, and formatting the result again changes nothing."""
    if data.draw(st.booleans(), label="golden input"):
        policy = None
        text = data.draw(st.sampled_from(GOLDEN)).read_bytes().decode("utf-8")
    else:
        policy = data.draw(policies(max_rules=4, max_leaves=10))
        text = render_policy(policy)
    messy, added = data.draw(commented(text))
    formatted = fmt(messy)
    assert fmt(formatted) == formatted
    for note in added:
        assert note in formatted
    before, after = check_text(messy).policy, check_text(formatted).policy
    assert before == after
    assert policy is None or after == policy


@settings(max_examples=examples(25))
@given(st.sampled_from(GOLDEN), st.data())
def test_golden_inputs_format_the_same_whatever_their_indentation(
    case: Path, data: st.DataObject
) -> None:
    text = case.read_bytes().decode("utf-8")
    lines = text.split("\n")
    indents = st.sampled_from(["", " ", "   ", "\t", "\t\t  "])
    reindented = "\n".join(data.draw(indents) + line.strip() for line in lines)
    assert fmt(reindented) == fmt(text)


@pytest.mark.parametrize("case", GOLDEN, ids=lambda p: p.stem)
def test_golden_inputs_are_idempotent(case: Path) -> None:
    once = fmt(case.read_bytes().decode("utf-8"))
    assert fmt(once) == once
