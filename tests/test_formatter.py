"""The formatter: golden files, layout rules, comments, and the `leukorules fmt` command.

Golden cases: `tests/formatter/NAME.rules` is formatted and compared with `NAME.formatted`
(`pytest --update-golden` rewrites the expected files from the current output).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.golden import Golden
from support.profiles import examples

from leukorules import model as m
from leukorules.check import check_text
from leukorules.source import SourceFile
from leukorules.syntax import ast
from leukorules.syntax.formatter import (
    MAX_WIDTH,
    format_module,
    format_source,
    quote,
    ref_text,
    same_content,
)
from leukorules.syntax.parser import parse
from leukorules.syntax.render import condition, number_literal, render_policy

GOLDEN = Path(__file__).parent / "formatter"
CASES = sorted(GOLDEN.glob("*.rules"))


def read(path: Path) -> str:
    """File text exactly as stored (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def fmt(text: str, path: str = "t.rules") -> str:
    formatted, diagnostics = format_source(text, path)
    assert formatted is not None, diagnostics
    assert diagnostics == []
    return formatted


def parsed(text: str) -> ast.Module:
    module, diagnostics = parse(SourceFile.from_text("t.rules", text))
    assert module is not None, diagnostics
    return module


HEADER = 'policy p { title "t" version "1" }\nevidence 1 { citation unknown }\n'

# --- golden files ---------------------------------------------------------------------------


def test_golden_cases_exist(golden: Golden) -> None:
    assert len(CASES) >= 6
    for case in [] if golden.updating else CASES:
        assert case.with_suffix(".formatted").exists(), f"{case.name} has no .formatted file"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden(case: Path, golden: Golden) -> None:
    golden.check(case.with_suffix(".formatted"), fmt(read(case), case.name))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden_formatting_is_idempotent_and_keeps_content(case: Path) -> None:
    text = read(case)
    formatted = fmt(text, case.name)
    assert fmt(formatted, case.name) == formatted
    assert same_content(parsed(text), parsed(formatted))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden_formatting_keeps_every_comment_line(case: Path) -> None:
    before = parsed(read(case))
    after_text = fmt(read(case), case.name)
    for comment in before.comments:
        assert comment.text.rstrip() in after_text


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden_formatting_keeps_the_checked_model(case: Path) -> None:
    before = check_text(read(case), case.name)
    after = check_text(fmt(read(case), case.name), case.name)
    assert (before.policy is None) == (after.policy is None)
    assert before.policy == after.policy
    assert sorted(d.code for d in before.diagnostics) == sorted(d.code for d in after.diagnostics)


def test_golden_inputs_cover_every_construct() -> None:
    """The golden inputs hold every kind of declaration, body field, type and condition."""
    seen: set[str] = set()
    stack: list[object] = []
    for case in CASES:
        stack.extend(parsed(read(case)).items)
    while stack:
        node = stack.pop()
        seen.add(type(node).__name__)
        match node:
            case ast.SectionBlock(items=items) | ast.RuleBlock(items=items):
                stack.extend(items)
            case ast.Statement(text=text) | ast.Recommend(action=text) | ast.Note(text=text):
                seen.add(f"body:{node.kind}")
                stack.extend([text] if text is not None else [])
            case ast.EvidenceRefs(refs=names) | ast.After(rules=names) | ast.Overrides(rules=names):
                seen.add(f"body:{node.kind}")
                stack.extend(names)
            case ast.Alternatives(actions=actions):
                seen.add(f"body:{node.kind}")
                stack.extend(actions)
            case ast.When(condition=condition) | ast.Require(condition=condition):
                seen.add(f"body:{node.kind}")
                stack.append(condition)
            case ast.Line(number=number):
                seen.add(f"body:{node.kind}")
                stack.append(number)
            case ast.Message(text=text):
                seen.add(f"body:{node.kind}")
                stack.append(text)
            case ast.Strength(level=level):
                seen.add(f"body:{node.kind}")
                stack.append(level)
            case ast.Derive(fact=fact, value=value):
                seen.add(f"body:{node.kind}")
                stack.extend([fact, value])
            case ast.FactDecl(type=spec):
                seen.add(f"type:{spec.kind}")
            case ast.AndExpr(items=items) | ast.OrExpr(items=items):
                stack.extend(items)
            case ast.NotExpr(item=item) | ast.ParenExpr(item=item):
                stack.append(item)
            case ast.CompareExpr(operand=operand):
                stack.append(operand)
            case ast.MemberExpr(values=values):
                stack.extend(values)
    wanted = {f"body:{kind}" for kind in ast.BodyKind.__args__}  # type: ignore[attr-defined]
    wanted |= {f"type:{kind}" for kind in ast.TypeKind.__args__}  # type: ignore[attr-defined]
    wanted |= {
        "PolicyBlock", "Include", "EvidenceBlock", "FactDecl", "SectionBlock", "RuleBlock",
        "ConstExpr", "Truthy", "CompareExpr", "MemberExpr", "ContainsExpr", "KnownExpr",
        "AndExpr", "OrExpr", "NotExpr", "ParenExpr",
        "NameLit", "StringLit", "NumberLit", "DateLit", "BoolLit",
    }  # fmt: skip
    assert wanted <= seen, wanted - seen


# --- layout ---------------------------------------------------------------------------------


def test_rule_body_is_put_in_canonical_order() -> None:
    text = HEADER + (
        'fact a: bool\nderived d: bool\nrule r0 { statement "z" evidence 1 derive d = true }\n'
        'rule r { alternatives "b" strength suggested recommend "x" overrides r0 '
        'after r0 when a evidence 1 statement "s" }\n'
    )
    body = fmt(text).split("rule r {\n")[1].split("}")[0].split("\n")
    keywords = [line.split()[0] for line in body if line.strip()]
    assert keywords == [
        "statement", "evidence", "when", "after", "overrides", "recommend", "strength",
        "alternatives",
    ]  # fmt: skip


def test_repeated_fields_keep_their_order() -> None:
    text = 'rule r { when b recommend "x" when a note "n" }\n'
    assert fmt(text) == 'rule r {\n  when b\n  when a\n  recommend "x"\n  note "n"\n}\n'


def test_blank_lines_between_blocks_and_kept_between_fact_runs() -> None:
    text = HEADER + "fact a: bool\nfact b: bool\n\n\n\nfact c: bool\nrule r {}\nrule s {}\n"
    out = fmt(text)
    assert "fact a: bool\nfact b: bool\n\nfact c: bool\n\nrule r {}\n\nrule s {}\n" in out
    assert "\n\n\n" not in out


def test_long_condition_breaks_at_top_level_operators_only_past_the_width() -> None:
    def rule_with(width: int) -> str:
        # `  when a and ` is 13 columns, then one name fills the line to `width`
        name = "f" + "x" * (width - 13 - 1)
        return f"rule r {{ when a and {name} }}\n"

    fits = fmt(rule_with(MAX_WIDTH))
    assert max(len(line) for line in fits.splitlines()) == MAX_WIDTH
    assert "\n    and " not in fits
    broken = fmt(rule_with(MAX_WIDTH + 1))
    assert broken.splitlines()[1:3] == ["  when a", "    and f" + "x" * (MAX_WIDTH - 13)]


def test_or_of_ands_breaks_before_each_or() -> None:
    long = "x" * 40
    text = f"rule r {{ when a and {long}1 or b and {long}2 }}\n"
    lines = fmt(text).splitlines()
    assert lines[1] == f"  when a and {long}1"
    assert lines[2] == f"    or b and {long}2"


def test_parentheses_are_kept_as_written() -> None:
    text = "rule r { when ((a)) and (b) or (not (c)) }\n"
    assert "when ((a)) and (b) or (not (c))" in fmt(text)


def test_strings_are_re_escaped() -> None:
    text = 'fact a: bool "q\\"b\\\\n\\nzt\ttab"\n'
    assert parsed(fmt(text)).items[0].description.value == 'q"b\\n\nzt\ttab'  # type: ignore[union-attr]
    assert fmt(text) == 'fact a: bool "q\\"b\\\\n\\nzt\\ttab"\n'


def test_a_string_with_an_unknown_escape_is_not_formatted() -> None:
    """It once lost its backslash: `\\z` became `z`, `\\u2265` became `u2265`."""
    for body in ("\\zt", "\\u2265", "C:\\data"):
        formatted, diagnostics = format_source(f'fact a: bool "{body}"\n', "t.rules")
        assert formatted is None
        assert [d.code for d in diagnostics] == ["LR115"]


@settings(max_examples=examples(200))
@given(st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_quote_is_the_inverse_of_parsing(text: str) -> None:
    module = parsed(f"fact a: bool {quote(text)}\n")
    decl = module.items[0]
    assert isinstance(decl, ast.FactDecl) and decl.description is not None
    assert decl.description.value == text


def test_evidence_references_are_quoted_only_when_needed() -> None:
    assert [ref_text(r) for r in ("4", "-1.5", "abc_1", "table 2", "2020-01-01", "1.", "")] == [
        "4", "-1.5", "abc_1", '"table 2"', '"2020-01-01"', '"1."', '""',
    ]  # fmt: skip
    text = 'evidence "abc" {}\nrule r { evidence "4", "a b", x }\n'
    assert fmt(text) == 'evidence abc {}\n\nrule r {\n  evidence 4, "a b", x\n}\n'


def test_crlf_and_tabs_give_the_same_result_as_lf() -> None:
    lf = HEADER + 'fact a: bool  # c\nrule r {\n\tstatement "s"\n\twhen a\n}\n'
    crlf = lf.replace("\n", "\r\n")
    assert fmt(crlf) == fmt(lf)
    assert "\r" not in fmt(crlf)


def test_carriage_return_inside_a_string_is_kept() -> None:
    out = fmt('fact a: bool "x\ry"\n')
    assert out == 'fact a: bool "x\ry"\n'


def test_empty_and_comment_only_files() -> None:
    assert fmt("") == ""
    assert fmt("  \n\n") == ""
    assert fmt("# a\n\n\n   # b") == "# a\n\n# b\n"


def test_syntax_errors_give_no_text_and_the_diagnostics() -> None:
    formatted, diagnostics = format_source("rule r { when }\n", "bad.rules")
    assert formatted is None
    assert diagnostics and all(
        d.span is not None and d.span.file == "bad.rules" for d in diagnostics
    )


# --- comments -------------------------------------------------------------------------------


def test_full_line_comment_moves_with_the_field_that_follows_it() -> None:
    text = 'rule r {\n  # about the conclusion\n  recommend "x"\n  statement "s"\n}\n'
    assert fmt(text) == 'rule r {\n  statement "s"\n  # about the conclusion\n  recommend "x"\n}\n'


def test_trailing_comment_stays_with_its_field() -> None:
    text = 'rule r {\n  recommend "x" # why\n  statement "s"\n}\n'
    assert fmt(text) == 'rule r {\n  statement "s"\n  recommend "x"  # why\n}\n'


def test_comments_inside_a_condition_break_it_and_stay_with_their_operands() -> None:
    text = "rule r {\n  when a and # first\n  # about b\n  b\n}\n"
    out = fmt(text)
    assert out == "rule r {\n  when a  # first\n    # about b\n    and b\n}\n"
    assert fmt(out) == out


def test_trailing_comments_that_meet_on_one_line_are_joined() -> None:
    text = "rule r {\n  when not (a # one\n  or b) # two\n}\n"
    out = fmt(text)
    assert out == "rule r {\n  when not (a or b)  # one  # two\n}\n"
    assert fmt(out) == out


def test_dangling_comments_before_a_closing_brace_are_indented_inside() -> None:
    text = 'section "S" {\n  rule r {}\n\n# todo\n}\n'
    assert fmt(text) == 'section "S" {\n  rule r {}\n\n  # todo\n}\n'


def test_comments_between_a_head_and_its_brace_stay_with_the_head() -> None:
    text = "rule r # about r\n{\n}\n"
    assert fmt(text) == "rule r {}  # about r\n"
    text = "rule r # about r\n{\n  # inside\n}\n"
    assert fmt(text) == "rule r {  # about r\n  # inside\n}\n"
    text = "rule r\n# about r\n{}\n"
    assert fmt(text) == "# about r\nrule r {}\n"


# --- render ---------------------------------------------------------------------------------

BOOL = m.Fact("a", m.FactType("bool"))
FACTS = {n: m.Fact(n, m.FactType("bool")) for n in "abc"} | {
    "w": m.Fact("w", m.FactType("number", unit="kg")),
    "e": m.Fact("e", m.FactType("enum", ("lo", "hi"))),
}


def shown(expr: m.Expr) -> str:
    from leukorules.syntax.formatter import expr_text

    return expr_text(condition(expr, FACTS))


def test_render_adds_the_parentheses_precedence_needs() -> None:
    a, b, c = (m.Compare(n, "==", True) for n in "abc")
    assert shown(m.Not(m.Or((a, b)))) == "not (a or b)"
    assert shown(m.And((m.Or((a, b)), c))) == "(a or b) and c"
    assert shown(m.Or((m.And((a, b)), c))) == "a and b or c"
    assert shown(m.Not(m.And((a, b)))) == "not (a and b)"
    assert shown(m.And((m.Not(a), m.Not(m.Not(b))))) == "not a and not not b"


def test_render_literals_by_fact_type() -> None:
    assert shown(m.Compare("a", "==", False)) == "a == false"
    assert shown(m.Compare("a", "!=", True)) == "a != true"
    assert shown(m.Compare("w", ">", 1e-05)) == "w > 0.00001 [kg]"
    assert shown(m.Member("e", ("lo", "hi"), negated=True)) == "e not in {lo, hi}"
    assert shown(m.CompareFacts("a", "==", "b")) == "a == b"


def test_number_literals_never_use_an_exponent() -> None:
    assert number_literal(1e16) == "10000000000000000"
    assert number_literal(1e-05) == "0.00001"
    assert number_literal(-2.5) == "-2.5"
    assert number_literal(3) == "3"
    assert number_literal(0.1) == "0.1"
    with pytest.raises(ValueError):
        number_literal(float("nan"))


def test_render_rebuilds_sections_so_rules_keep_their_order() -> None:
    def rule(rule_id: str, section: tuple[str, ...]) -> m.Rule:
        return m.Rule(rule_id, "s", ("1",), m.Const(True), m.StateNote("note"), section)

    policy = m.Policy(
        id="p",
        title="t",
        version="1",
        evidence={"1": m.Evidence("1")},
        sections=(m.Section(("A",)), m.Section(("A", "B")), m.Section(("E",)), m.Section(("C",))),
        rules=(rule("r1", ("A",)), rule("r2", ("A", "B")), rule("r3", ("A",)), rule("r4", ())),
    )
    result = check_text(render_policy(policy))
    assert result.policy == policy


def test_render_of_a_checked_policy_is_already_formatted() -> None:
    policy = check_text(read(GOLDEN / "layout.rules")).policy
    assert policy is not None
    text = render_policy(policy)
    assert fmt(text) == text
    assert check_text(text).policy == policy


def test_bundled_policy_renders_to_one_file_that_checks_back_equal() -> None:
    from leukorules.check import check_paths
    from leukorules.syntax.grammar import bundled_policy_dir

    policy = check_paths([bundled_policy_dir()]).policy
    assert policy is not None
    text = render_policy(policy)
    assert check_text(text).policy == policy
    assert fmt(text) == text


@pytest.mark.parametrize(
    "path", sorted(Path(__file__).parent.parent.glob("policies/*/*.rules")), ids=lambda p: p.name
)
def test_bundled_policy_files_are_formatted(path: Path) -> None:
    """`leukorules fmt --check` passes on the bundled policy (authors copy its layout)."""
    text = read(path)
    assert fmt(text) == text, f"run `leukorules fmt {path.parent}`"


def test_format_module_without_comments_needs_no_source_text() -> None:
    module = parsed(HEADER)
    assert format_module(module, SourceFile.from_text("x", "")) == fmt(HEADER)


# --- leukorules fmt -------------------------------------------------------------------------

MESSY = HEADER + 'fact a:bool\nrule r{statement "s" evidence 1 when a recommend "x"}\n'


def test_fmt_rewrites_files_in_place(tmp_path: Path) -> None:
    target = tmp_path / "p.rules"
    target.write_text(MESSY)
    target.chmod(0o640)
    result = leukorules("fmt", str(target))
    assert result.exit_code == 0, result.output
    assert read(target) == fmt(MESSY)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert "1 file reformatted" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["p.rules"]  # no temporary file left behind
    again = leukorules("fmt", str(target))
    assert again.exit_code == 0
    assert "0 files reformatted, 1 file left unchanged" in again.stderr


def test_fmt_check_reports_and_changes_nothing(tmp_path: Path) -> None:
    messy, clean = tmp_path / "messy.rules", tmp_path / "clean.rules"
    messy.write_text(MESSY)
    clean.write_text(fmt(MESSY))
    result = leukorules("fmt", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert "would reformat" in result.stderr and "messy.rules" in result.stderr
    assert "clean.rules" not in result.stderr.replace("left unchanged", "")
    assert read(messy) == MESSY
    assert leukorules("fmt", "--check", str(clean)).exit_code == 0


def test_fmt_diff_prints_a_diff_and_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "p.rules"
    target.write_text(MESSY)
    result = leukorules("fmt", "--diff", str(target))
    assert result.exit_code == 0
    assert "-rule r{statement" in result.stdout and "+rule r {" in result.stdout
    assert read(target) == MESSY
    assert leukorules("fmt", "--diff", "--check", str(target)).exit_code == 1


def test_fmt_leaves_a_file_with_syntax_errors_untouched(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.rules", tmp_path / "good.rules"
    bad_text = "rule r {  when  }\n"
    bad.write_text(bad_text)
    good.write_text(MESSY)
    result = leukorules("fmt", str(tmp_path))
    assert result.exit_code == 1
    assert read(bad) == bad_text
    assert read(good) == fmt(MESSY)  # the other file is still formatted
    assert "bad.rules:1:" in result.stderr and "[LR110]" in result.stderr
    assert "Traceback" not in result.output


def test_fmt_nonexistent_path(tmp_path: Path) -> None:
    result = leukorules("fmt", str(tmp_path / "missing.rules"))
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr and "[LR103]" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_fmt_folders_mean_all_rules_files_under_them(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "deep.rules").write_text(MESSY)
    (tmp_path / "notes.txt").write_text("rule r{}")
    assert leukorules("fmt", str(tmp_path)).exit_code == 0
    assert read(nested / "deep.rules") == fmt(MESSY)
    assert read(tmp_path / "notes.txt") == "rule r{}"
    empty = tmp_path / "empty"
    empty.mkdir()
    result = leukorules("fmt", str(empty))
    assert result.exit_code == 1 and "contains no .rules files" in result.stderr


def test_fmt_bad_bytes_and_usage_errors(tmp_path: Path) -> None:
    binary = tmp_path / "b.rules"
    binary.write_bytes(b"rule r {}\n\xff\xfe")
    result = leukorules("fmt", str(binary))
    assert result.exit_code == 1 and "[LR102]" in result.stderr
    assert binary.read_bytes() == b"rule r {}\n\xff\xfe"
    assert leukorules("fmt", "--no-such-option").exit_code == 2


def test_fmt_default_is_the_bundled_policy_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import leukorules.cli.common as common

    (tmp_path / "p.rules").write_text(MESSY)
    monkeypatch.setattr(common, "bundled_policy_dir", lambda: tmp_path)
    result = leukorules("fmt", "--check")
    assert result.exit_code == 1 and "p.rules" in result.stderr
