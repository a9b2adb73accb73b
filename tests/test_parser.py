"""The parser: syntax trees for valid text, and every syntax error of a file in plain words.

Recovery is judged by what an author sees: each mistake reported once, at the right place, with
a message that names what was expected in words (never Lark's terminal names) and a hint for the
common slips; no follow-on errors caused by the recovery itself.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.profiles import examples

from leukorules.diagnostics import Diagnostic, sorted_diagnostics
from leukorules.source import SourceFile
from leukorules.syntax import ast
from leukorules.syntax.lark_adapter import Token
from leukorules.syntax.parser import (
    MAX_EXPR_DEPTH,
    MAX_PARSE_DEPTH,
    MAX_SYNTAX_ERRORS,
    build_parser,
    parse,
)

HEADER = 'policy demo.policy { title "Demo" version "1.0" }\n'

VALID = (
    HEADER
    + """
evidence 1 { citation "Smith 2020" grade strong certainty moderate }
fact age: integer in 0..120 "Age in years"
fact mri: enum { normal, abnormal }
derived risk: enum { low, high }

section "Diagnosis" {
  rule dx.one {
    statement "Do an MRI."
    evidence 1
    when age >= 18 and mri == abnormal
    derive risk = high
  }
}
"""
)

# Lark's own names for terminals must never reach an author.
RAW_TERMINAL = re.compile(
    r"\$END|__ANON|\b(?:RBRACE|LBRACE|RPAR|LPAR|COMMA|COLON|EQUAL|NAME|STRING|SIGNED_NUMBER|"
    r"COMPARATOR|DATE|UNIT|DOT|WHEN|RULE|RECOMMEND)\b"
)


def run(text: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    return parse(SourceFile.from_text("t.rules", text))


def rule_with(*body: str) -> str:
    """The valid policy with one more rule whose body lines are `body`."""
    lines = "\n".join(f"    {line}" for line in body)
    return VALID + f"rule extra {{\n{lines}\n}}\n"


def only(text: str) -> Diagnostic:
    module, diagnostics = run(text)
    assert module is None
    assert len(diagnostics) == 1, [d.message for d in diagnostics]
    return diagnostics[0]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_valid_policy_parses_to_a_module() -> None:
    module, diagnostics = run(VALID)
    assert diagnostics == []
    assert module is not None
    kinds = [type(item).__name__ for item in module.items]
    assert kinds == [
        "PolicyBlock",
        "EvidenceBlock",
        "FactDecl",
        "FactDecl",
        "FactDecl",
        "SectionBlock",
    ]
    section = module.items[-1]
    assert isinstance(section, ast.SectionBlock)
    rule = section.items[0]
    assert isinstance(rule, ast.RuleBlock)
    assert [b.kind for b in rule.items] == ["statement", "evidence", "when", "derive"]


def test_comments_are_kept_for_the_formatter() -> None:
    module, _ = run("# leading\n" + VALID + "# trailing\n")
    assert module is not None
    assert [c.text for c in module.comments] == ["# leading", "# trailing"]


def test_grammar_is_conflict_free_under_strict_lalr() -> None:
    # strict=True makes Lark raise on any shift/reduce conflict and, with `interegular`
    # installed, on terminals whose regular expressions collide.
    parser = build_parser(strict=True)
    assert parser.parse(VALID) is not None


def test_strict_mode_would_catch_a_conflict() -> None:
    # The test above is only worth something if strict mode rejects a conflicting grammar.
    from lark import Lark
    from lark.exceptions import GrammarError

    with pytest.raises(GrammarError):
        Lark('start: a | b\na: "x"\nb: "x"\n', parser="lalr", strict=True)


def test_empty_and_comment_only_files_are_reported() -> None:
    for text in ("", "  \n\t\n", "# only a comment\n# and another\n"):
        module, diagnostics = run(text)
        assert [d.code for d in diagnostics] == ["LR104"], text
        assert module is not None and module.items == ()


@pytest.mark.parametrize(
    ("body", "code", "column_text", "hint_part"),
    [
        (["when age = 3", 'note "x"'], "LR110", "=", "use `==`"),
        (["when age > 3 && mri == normal", 'note "x"'], "LR111", "&&", "use `and`"),
        (["when age > 3 || mri == normal", 'note "x"'], "LR111", "||", "use `or`"),
        (["when !(age > 3)", 'note "x"'], "LR111", "!", "use `not`"),
        (["when age > 3", "recommend 'x'"], "LR111", "'", "double quotes"),
        (["when age > 3", 'recomend "x"'], "LR110", "recomend", "did you mean `recommend`?"),
        (["when age > 3", 'recommend "x'], "LR113", '"x', 'add the closing `"`'),
        (["when age ≥ 3", 'note "x"'], "LR111", "≥", "`>=`"),
        (["when age > 3", "derive risk == high"], "LR110", "=", "single `=`"),
        (["when (age > 3 and mri == normal", 'note "x"'], "LR110", 'note "x"', "`(` on line"),
        (["when mri in { normal abnormal }", 'note "x"'], "LR110", "abnormal", "commas"),
        (["statement Do an MRI", 'note "x"'], "LR110", "Do", "double quotes"),
        (["when age > 3", 'note "x"', "strength: recommended"], "LR110", ":", "leave out"),
    ],
)
def test_common_mistakes_get_one_error_with_a_hint(
    body: list[str], code: str, column_text: str, hint_part: str
) -> None:
    text = rule_with('statement "s"', "evidence 1", *body)
    diagnostic = only(text)
    assert diagnostic.code == code
    assert diagnostic.hint is not None and hint_part in diagnostic.hint, diagnostic.hint
    assert diagnostic.span is not None
    line = text.splitlines()[diagnostic.span.line - 1]
    assert line[diagnostic.span.column - 1 :].startswith(column_text), (line, diagnostic.span)
    assert not RAW_TERMINAL.search(diagnostic.message), diagnostic.message


def test_misspelt_top_level_keyword_is_reported_once_and_the_rest_still_checked() -> None:
    text = VALID + "fakt weight: number [kg]\nfact height: integr\n"
    module, diagnostics = run(text)
    assert module is None
    assert [(d.code, d.span.line if d.span else 0) for d in diagnostics] == [
        ("LR110", line_of(text, "fakt")),
        ("LR110", line_of(text, "integr")),
    ]
    assert diagnostics[0].hint == "did you mean `fact`?"
    assert diagnostics[1].hint == "did you mean `integer`?"
    assert "expected a declaration (policy, include" in diagnostics[0].message


def test_unclosed_block_points_at_its_brace() -> None:
    text = rule_with('statement "s"', "evidence 1", 'note "x"')[:-2] + "\nrule next { }\n"
    diagnostic = only(text)
    assert diagnostic.code == "LR110"
    assert diagnostic.message.startswith("unexpected `rule`; expected a rule field (statement")
    assert diagnostic.message.endswith("or `}`")
    assert diagnostic.related and diagnostic.related[0].span.line == line_of(text, "rule extra")
    assert diagnostic.hint is not None and "is not closed" in diagnostic.hint


def test_unclosed_block_at_end_of_file() -> None:
    text = VALID + 'rule extra {\n  statement "s"\n  evidence 1\n  note "x"\n'
    diagnostic = only(text)
    assert diagnostic.code == "LR112"
    assert diagnostic.message.startswith("unexpected end of file; expected a rule field")
    assert diagnostic.span is not None
    # points just past the last character, not at an empty line after it
    assert (diagnostic.span.line, diagnostic.span.column) == (len(text.splitlines()), 11)
    assert diagnostic.related[0].span.line == line_of(text, "rule extra")


def test_missing_open_brace_is_inserted_and_parsing_goes_on() -> None:
    text = VALID + 'rule extra\n  statement "s"\n  evidence 1\n  note "x"\n}\n'
    diagnostic = only(text)
    assert diagnostic.message == "unexpected `statement`; expected `.` or `{`"


def test_stray_closing_brace() -> None:
    diagnostic = only(VALID + "}\n")
    assert diagnostic.hint == "this `}` has no matching `{`"


def test_trailing_comma_before_a_keyword_is_explained() -> None:
    text = rule_with('statement "s"', "evidence 1,", "when age > 3", 'note "x"')
    diagnostic = only(text)
    assert diagnostic.message == (
        "the list ends with `,`, so the `when` after it was read as an item"
    )
    assert diagnostic.hint == "remove the trailing `,`"
    assert diagnostic.span is not None
    line = text.splitlines()[diagnostic.span.line - 1]
    assert line.strip() == "evidence 1," and line[diagnostic.span.column - 1] == ","


def test_bad_rule_id_skips_the_broken_rule_without_follow_on_errors() -> None:
    text = rule_with('statement "s"', "evidence 1", 'note "x"').replace("extra", "ex-tra")
    text += 'rule after.it { statement "t" evidence 1 note }\n'
    diagnostic = only(text)
    assert diagnostic.code == "LR111"
    assert diagnostic.message == "unexpected character `-`; expected `.` or `{`"


def test_many_errors_in_one_run_in_source_order() -> None:
    text = (
        HEADER
        + "fakt a: bool\n"
        + "fact b: enum { x y }\n"
        + 'rule r1 { statement "s" evidence 1 when a = true note }\n'
        + "rule r2 { statement 's' evidence 1 note }\n"
        + 'rule r3 { statement "s" evidence 1 when a && b == x note }\n'
        + 'rule r4 { statement "s" evidence 1 recomend "x" }\n'
        + 'rule r5 { statement "s" evidence 1 when (a note }\n'
        + "rule r6 { statement @ }\n"
    )
    module, diagnostics = run(text)
    assert module is None
    assert [d.span.line for d in diagnostics if d.span] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert [d.code for d in diagnostics] == [
        "LR110",
        "LR110",
        "LR110",
        "LR111",
        "LR111",
        "LR110",
        "LR110",
        "LR111",
    ]
    for diagnostic in diagnostics:
        assert not RAW_TERMINAL.search(diagnostic.message), diagnostic.message


def test_syntax_errors_are_capped() -> None:
    text = HEADER + "".join(
        f'rule r{i} {{ statement "s" evidence 1 when a @ b note }}\n' for i in range(40)
    )
    module, diagnostics = run(text)
    assert module is None
    assert len(diagnostics) == MAX_SYNTAX_ERRORS


def test_the_same_slip_twice_on_one_line_is_reported_once() -> None:
    text = rule_with('statement "s"', "evidence 1", "when age = 3 and mri = normal", 'note "x"')
    assert only(text).hint == "use `==` to compare a fact with a value"


def test_unterminated_string_does_not_swallow_the_next_lines() -> None:
    text = rule_with('statement "s', "evidence 1", "when age > 3", "recommend 'x'")
    module, diagnostics = run(text)
    assert module is None
    assert [d.code for d in diagnostics] == ["LR113", "LR111"]


def test_unexpected_character_is_shown_readably() -> None:
    diagnostic = only(VALID + "\x01\n")
    assert diagnostic.message.startswith("unexpected character U+0001; expected")


def test_deep_nesting_is_refused_without_recursion() -> None:
    deep = "(" * 200 + "age > 3" + ")" * 200
    diagnostic = only(rule_with('statement "s"', "evidence 1", f"when {deep}", 'note "x"'))
    assert diagnostic.code == "LR114"
    assert diagnostic.message == f"condition nested more than {MAX_EXPR_DEPTH} levels deep"


@pytest.mark.parametrize("depth", [10_000, 2_000_000])
def test_runaway_nesting_stops_the_parse_early(depth: int) -> None:
    deep = "(" * depth + "age > 3" + ")" * depth
    text = rule_with('statement "s"', "evidence 1", f"when {deep}", 'note "x"')
    diagnostic = only(text)
    assert diagnostic.code == "LR114"
    assert diagnostic.message == (
        f"nested more than {MAX_PARSE_DEPTH:,} levels deep; the file is not read further"
    )
    assert diagnostic.span is not None and diagnostic.span.column < MAX_PARSE_DEPTH + 10


def test_long_flat_conditions_are_fine() -> None:
    chain = " and ".join(["age > 3"] * 3000)
    module, diagnostics = run(rule_with('statement "s"', "evidence 1", f"when {chain}", 'note "x"'))
    assert diagnostics == []
    assert module is not None


def test_unclosed_parentheses_at_end_of_file() -> None:
    text = VALID + 'rule extra { statement "s" evidence 1 when ' + "(" * 50 + "age > 3"
    module, diagnostics = run(text)
    assert module is None
    assert [d.code for d in diagnostics] == ["LR112"]
    assert diagnostics[0].hint is not None and "`(`" in diagnostics[0].hint


def test_syntax_errors_before_runaway_nesting_are_kept() -> None:
    text = VALID + "rule x { statement @ }\n" + "rule y { when " + "not " * 5000 + "age > 3 }"
    module, diagnostics = run(text)
    assert module is None
    assert [d.code for d in diagnostics] == ["LR111", "LR114"]


def test_a_rejected_file_always_gets_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should the recovering parse ever find nothing wrong in what the fast parse refused, the
    # place where the fast parse stopped is reported rather than nothing.
    from leukorules.syntax import recovery

    monkeypatch.setattr(recovery.Recovery, "run", lambda self: None)
    module, diagnostics = run(VALID + "rule broken {\n")
    assert module is None
    assert [(d.code, d.message) for d in diagnostics] == [("LR110", "syntax error")]
    assert diagnostics[0].span is not None and diagnostics[0].span.line > 1


def test_parsing_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    run(VALID)
    run(VALID + "}")
    assert gc.isenabled()
    gc.disable()
    try:
        run(VALID)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_spans_cover_keywords_and_braces() -> None:
    module, _ = run(VALID)
    assert module is not None
    section = module.items[-1]
    assert isinstance(section, ast.SectionBlock)
    rule = section.items[0]
    assert isinstance(rule, ast.RuleBlock)
    # `rule dx.one {` ... `}`: from the keyword to the closing brace
    assert (rule.span.line, rule.span.column) == (line_of(VALID, "rule dx.one"), 3)
    assert (rule.span.end_line, rule.span.end_column) == (rule.span.line + 5, 4)
    when = next(b for b in rule.items if b.kind == "when")
    line = VALID.splitlines()[when.span.line - 1]
    assert line[when.span.column - 1 : when.span.end_column - 1] == line.strip()


# --- the fast parse and the recovering parse agree --------------------------------------------

_PIECES = [
    *re.findall(r'"[^"\n]*"|\w+|[^\s\w]', VALID),
    "\n",
    " ",
    "factage",
    "rulex.y",
    "==",
    "..",
    "2026-01-31",
    "-3.5",
    "[kg]",
    "# c\n",
]


@st.composite
def _texts_near_valid(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + " " + draw(st.sampled_from(_PIECES)) + " " + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
    return text


@settings(max_examples=examples(150))
@given(_texts_near_valid())
def test_fast_and_recovering_parse_agree(text: str) -> None:
    """`parse` reads a file in one go and parses only a file it refuses again, token by token,
    to report every error; driven token by token, the parser must read any file exactly as it
    does in one go, spans included, and refuse exactly what it refuses."""
    from leukorules.syntax import build, recovery

    source = SourceFile.from_text("t.rules", text)
    module, diagnostics = parse(source)
    with build.lock:
        build.context.path = source.path
        again = recovery.Recovery(source)
        items = again.run()
    if module is not None and module.items:
        assert items is not None and not again.diagnostics
        assert repr(tuple(items)) == repr(module.items)
    elif items is not None and not again.diagnostics:
        # accepted token by token: then `parse` accepted it too, unless the file is empty or
        # nested too deeply
        assert all(d.code in {"LR104", "LR114"} for d in diagnostics), diagnostics
    else:
        assert module is None
        assert diagnostics == sorted_diagnostics(again.diagnostics)


def test_keyword_glued_to_a_name_is_an_error_not_a_silent_split() -> None:
    # Lark's contextual lexer would read `rulex.y` as `rule x.y`; the author wrote one word.
    text = 'policy p { title "t" version "1" }\nrulex.y { statement "s" }\n'
    module, diagnostics = parse(SourceFile.from_text("glued.rules", text))
    assert module is None
    (diagnostic,) = diagnostics
    assert diagnostic.code == "LR110"
    assert "`rulex`" in diagnostic.message
    assert diagnostic.span is not None and (diagnostic.span.line, diagnostic.span.column) == (2, 1)
    assert diagnostic.hint == "put a space after `rule`: rule x"


@pytest.mark.parametrize(
    ("line", "glued", "hint"),
    [
        ("fact age: integer in0..120", "`in0`", "put a space after `in`: in 0"),
        ("fact s: set of{a, b}", None, None),  # `of{` is two tokens: no glued keyword
        ("fact s: setof {a, b}", "`setof`", "put a space after `set`: set of"),
    ],
)
def test_any_keyword_glued_to_a_name_gets_the_space_hint(
    line: str, glued: str | None, hint: str | None
) -> None:
    text = f'policy p {{ title "t" version "1" }}\n{line}\n'
    module, diagnostics = parse(SourceFile.from_text("glued.rules", text))
    if glued is None:
        assert module is not None and not diagnostics
        return
    (diagnostic,) = diagnostics
    assert diagnostic.code == "LR110" and glued in diagnostic.message
    assert diagnostic.hint == hint


def test_keywords_are_read_off_the_grammar() -> None:
    from leukorules.syntax.grammar import data_dir
    from leukorules.syntax.keywords import keywords

    grammar = (data_dir("grammar") / "leukorules.lark").read_text(encoding="utf-8")
    words = keywords()
    assert set(re.findall(r'"([a-z_]+)"', grammar)) == words.all
    assert words.declarations == (
        *("policy", "include", "evidence", "fact", "derived", "section", "rule", "gap"),
        *("constraint", "property", "valueset", "bind"),
    )
    # the syntax tree has a type for each body line and each fact type the grammar has
    constraint_only = ("require", "message")
    assert words.body_fields == tuple(
        k
        for k in ast.BodyKind.__args__  # type: ignore[attr-defined]
        if k not in constraint_only
    )
    assert words.types == ast.TypeKind.__args__  # type: ignore[attr-defined]


def test_only_the_adapter_imports_lark() -> None:
    """Everything that touches Lark goes through `syntax/lark_adapter.py`."""
    from pathlib import Path

    imports_lark = re.compile(r"^\s*(?:from\s+lark\b|import\s+(?:.*[\s,])?lark\b)", re.M)
    package = Path(__file__).resolve().parent.parent / "leukorules"
    importers = {
        file.relative_to(package).as_posix()
        for file in package.rglob("*.py")
        if imports_lark.search(file.read_text(encoding="utf-8"))
    }
    assert importers == {"syntax/lark_adapter.py"}


def test_the_adapter_reads_tokens_as_larks_own_lexer_does() -> None:
    """The adapter reads with the contextual lexer's own per-state scanners and callbacks, in a
    leaner loop than Lark's; on real policies it reads exactly the tokens Lark's lexer reads
    (this guards the Lark internals the adapter relies on)."""
    from pathlib import Path

    from leukorules.syntax import build
    from leukorules.syntax.grammar import bundled_policy_dir
    from leukorules.syntax.lark_adapter import _Reader
    from leukorules.syntax.tables import shared_parser

    def shown(tokens: list[Token]) -> list[tuple[object, ...]]:
        return [
            (t.type, t.value, t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos)
            for t in tokens
        ]

    parser = shared_parser()
    golden = Path(__file__).parent / "formatter"
    files = [*bundled_policy_dir().glob("*.rules"), *golden.glob("*.rules")]
    assert len(files) >= 5
    for file in files:
        text = file.read_text(encoding="utf-8")
        with build.lock:
            build.context.path = file.name
            theirs = list(parser._lark.parse_interactive(text).iter_parse())
            interactive = parser._lark.parse_interactive(text)
            ours = []
            for token in _Reader(text, parser._lexers).tokens(interactive.parser_state.state_stack):
                interactive.feed_token(token)
                ours.append(token)
            build.context.comments = []
        assert shown(ours) == shown(theirs), file.name
