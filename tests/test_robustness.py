"""Hostile and odd input: always diagnostics and a clean exit status, never a traceback.

Everything goes through the real command line (`leukorules check`) with click's CliRunner and
`catch_exceptions=False`, so an exception inside leukorules fails the test instead of being
turned into exit status 1. A hypothesis property then mutates a valid policy at random and checks
that the checker only ever answers with diagnostics.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.cli import leukorules
from support.profiles import examples

from leukorules.check import check_text
from leukorules.diagnostics import Code, Severity, has_errors, render_json, render_text
from leukorules.reading import MAX_SOURCE_BYTES

# A valid policy that uses every construct of the language.
VALID = """\
# A small policy touching every construct.
policy demo.robust {
  title "Robustness"
  version "1.0"
  source "Example guideline"
  effective 2026-01-01
}

evidence 1 { citation "Example guideline, 2024" grade strong certainty moderate }
evidence "2b" { citation unknown pmid "123" }

fact age: integer in 0..120 "Age in years"
fact weight: number [kg] in 0..300 "Body weight"
fact mri: enum { normal, abnormal } "Brain MRI result"
fact symptoms: set of { headache, seizure, confusion } "Presenting symptoms"
fact seizure: bool "Seizure at presentation"
fact notes: string "Free text"
fact onset: date "Date of onset"
derived risk: enum { low, high } "Risk level"

section "Assessment" {
  rule assess.risk_high {
    statement "Older patients with an abnormal MRI are at high risk."
    evidence 1
    when age >= 65 and (mri == abnormal or symptoms contains seizure)
    derive risk = high
  }

  rule assess.risk_low {
    statement "Younger patients are at low risk."
    evidence 1
    when age < 65
    derive risk = low
  }

  section "Treatment" {
    rule treat.refer {
      statement "Refer high-risk patients."
      evidence 1, "2b"
      when risk == high and not seizure is unknown
      recommend "Refer to neurology"
      strength recommended
      alternatives "Teleconsultation", "Watchful waiting"
    }

    rule treat.weight {
      statement "Review doses for heavy patients."
      evidence 1
      after treat.refer
      when weight > 120 [kg] or notes == "dose review" or onset < 2025-06-01
      caution "Dose by weight"
    }

    rule treat.override {
      statement "Seizures first."
      evidence 1
      when seizure and mri in { normal, abnormal } and age not in { 1, 2 }
      note
      overrides treat.weight
    }

    gap treat.duration {
      when seizure
      note "No statement on duration."
    }
  }
}
"""


def cli(args: list[str]) -> tuple[int, str]:
    result = leukorules(*args)
    return result.exit_code, result.output


def check_file(tmp_path: Path, content: bytes, name: str = "policy.rules") -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(content)
    status, output = cli(["check", str(path)])
    assert "Traceback" not in output
    return status, output


def codes(output: str) -> list[str]:
    return re.findall(r"\[(LR\d{3})\]$", output, re.M)


def test_the_base_policy_is_valid(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, VALID.encode())
    assert status == 0, output
    assert codes(output) == ["LR409"]


@pytest.mark.parametrize("seed", range(5))
def test_binary_garbage(tmp_path: Path, seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    status, output = check_file(tmp_path, data)
    assert status == 1
    assert codes(output) == ["LR102"]


def test_binary_garbage_that_happens_to_be_utf8(tmp_path: Path) -> None:
    rng = random.Random(7)
    text = "".join(
        chr(rng.choice([rng.randrange(1, 0x7F), rng.randrange(0xA0, 0x3000)])) for _ in range(3000)
    )
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    found = codes(output)
    assert found and set(found) <= {"LR110", "LR111", "LR112", "LR113", "LR115", "LR116"}
    assert len(found) <= 20


def test_an_executable(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00>\x00" + bytes(200)
    status, output = check_file(tmp_path, elf)
    assert status == 1
    assert codes(output) == ["LR102"]


def test_empty_file(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, b"")
    assert status == 1
    assert codes(output) == ["LR104"]


def test_file_of_blank_lines_and_comments(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, b"\n\n   # nothing here\n\t\n")
    assert status == 1
    assert codes(output) == ["LR104"]


def test_fifty_megabyte_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.rules"
    chunk = (VALID + "\n").encode()
    with path.open("wb") as handle:
        handle.write(chunk)
        handle.write(b"# padding " + b"x" * 1013 + b"\n")
        handle.truncate(50 * 1024 * 1024)  # the rest: a sparse run of NUL bytes
    assert path.stat().st_size > MAX_SOURCE_BYTES
    status, output = cli(["check", str(path)])
    assert status == 1
    assert codes(output) == ["LR101"]
    assert "52,428,800 bytes" in output


def test_ten_thousand_nested_parentheses(tmp_path: Path) -> None:
    deep = "(" * 10_000 + "age > 3" + ")" * 10_000
    text = VALID.replace("when age < 65", f"when {deep}")
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert codes(output) == ["LR114"]


def test_ten_thousand_unclosed_parentheses(tmp_path: Path) -> None:
    text = VALID.replace("when age < 65", "when " + "(" * 10_000 + "age < 65")
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert codes(output) == ["LR114"]
    assert "nested more than 1,000 levels deep" in output


def test_ten_thousand_nots(tmp_path: Path) -> None:
    text = VALID.replace("when age < 65", "when " + "not " * 10_000 + "seizure")
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert codes(output) == ["LR114"]


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ('"Refer to neurology"', '"Refer to neurology', ":41:17:"),
        ('title "Robustness"', 'title "Robustness', ":3:9:"),
        ('No statement on duration."', "No statement on duration.", ":64:12:"),
        ('"Refer to neurology"', '"Refer to neurology\\"', ":41:17:"),
    ],
)
def test_unterminated_strings(tmp_path: Path, old: str, new: str, where: str) -> None:
    assert old in VALID
    status, output = check_file(tmp_path, VALID.replace(old, new).encode())
    assert status == 1
    assert codes(output) == ["LR113"], output
    assert f"policy.rules{where} error: unterminated string" in output


def test_unterminated_string_at_end_of_file(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, (VALID + 'fact last: bool "no end').encode())
    assert status == 1
    assert codes(output) == ["LR113"]


def test_non_utf8_bytes(tmp_path: Path) -> None:
    data = VALID.replace("Older patients", "\u00c4ltere Patienten").encode("latin-1")
    status, output = check_file(tmp_path, data)
    assert status == 1
    assert codes(output) == ["LR102"]
    assert "policy.rules:23:16: error: file is not valid UTF-8: byte 0xc4" in output


def test_nul_byte(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, VALID.replace("Robustness", "Robust\x00ness").encode())
    assert status == 1
    assert codes(output) == ["LR102"]
    assert "policy.rules:3:16: error: file contains a NUL byte" in output


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, b"\xef\xbb\xbf" + VALID.encode())
    assert status == 0, output


def test_byte_order_mark_does_not_shift_columns(tmp_path: Path) -> None:
    broken = 'policy demo.x { title = "x" version "1" }\n'
    status, output = check_file(tmp_path, b"\xef\xbb\xbf" + broken.encode())
    assert status == 1
    assert "policy.rules:1:23: error: unexpected `=`" in output


def test_crlf_line_endings_are_accepted(tmp_path: Path) -> None:
    status, output = check_file(tmp_path, VALID.replace("\n", "\r\n").encode())
    assert status == 0, output


def test_crlf_diagnostics_point_at_the_right_place(tmp_path: Path) -> None:
    text = VALID.replace("when age < 65", "when age = 65").replace("\n", "\r\n")
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert codes(output) == ["LR110"]
    assert "policy.rules:32:14: error: unexpected `=`" in output
    assert "\r" not in output


def test_tabs_are_accepted_and_columns_count_a_tab_as_one(tmp_path: Path) -> None:
    tabbed = re.sub(r"(?m)^( +)", lambda m: "\t" * (len(m.group(1)) // 2), VALID)
    status, output = check_file(tmp_path, tabbed.encode())
    assert status == 0, output
    status, output = check_file(tmp_path, tabbed.replace("when age < 65", "when age = 65").encode())
    assert status == 1
    assert "policy.rules:32:12: error: unexpected `=`" in output
    # the caret sits under the `=` in the code frame
    frame = output.split("\n")
    source_line = next(i for i, line in enumerate(frame) if line.startswith(" 32 | "))
    assert frame[source_line + 1].index("^") == frame[source_line].index("=")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    status, output = cli(["check", str(tmp_path / "absent.rules")])
    assert status == 1
    assert codes(output) == ["LR103"]


def test_a_directory_named_like_a_policy_inside_a_folder(tmp_path: Path) -> None:
    (tmp_path / "odd.rules").mkdir()
    (tmp_path / "main.rules").write_text(VALID, encoding="utf-8")
    status, output = cli(["check", str(tmp_path)])
    assert status == 0, output


# --- random mutations of a valid policy -------------------------------------------------------

_TOKENS = re.findall(r'"(?:[^"\\\n]|\\.)*"|\w+|[^\s\w]', VALID)
_ALPHABET = "{}()[]\",=!&|'<>.:;#\n\t -_0123456789azAZé≥“\x00\x7f\ufeff\r\\"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "splice", "swap", "cut"]))
        if kind == "insert":
            text = (
                text[:position] + draw(st.text(_ALPHABET, min_size=1, max_size=4)) + text[position:]
            )
        elif kind == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 12)) :]
        elif kind == "replace":
            text = text[:position] + draw(st.sampled_from(_ALPHABET)) + text[position + 1 :]
        elif kind == "splice":
            token = draw(st.sampled_from(_TOKENS))
            text = text[:position] + f" {token} " + text[position:]
        elif kind == "swap":
            other = draw(st.integers(0, len(text)))
            low, high = sorted((position, other))
            text = text[:low] + text[high:] + text[low:high]
        else:
            text = text[:position]
    return text


def _assert_answers_with_diagnostics(text: str) -> None:
    result = check_text(text, "mutant.rules")
    assert all(d.code in Code.__members__ for d in result.diagnostics)
    assert result.ok == (not has_errors(result.diagnostics))
    if not result.ok:
        assert any(d.severity is Severity.ERROR for d in result.diagnostics)
    render_text(result.diagnostics, result.sources)
    render_json(result.diagnostics)


@settings(max_examples=examples(300))
@given(mutated())
def test_mutations_only_ever_give_diagnostics(text: str) -> None:
    _assert_answers_with_diagnostics(text)


@settings(max_examples=examples(40))
@given(mutated())
def test_mutations_through_the_command_line(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("mutant") / "mutant.rules"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    status, output = cli(["check", str(path)])
    assert status in (0, 1)
    assert "Traceback" not in output
    assert output.rstrip("\n").splitlines()[-1].startswith("checked ")


# --- what reaches the terminal ----------------------------------------------------------------


def test_control_characters_never_reach_the_terminal(tmp_path: Path) -> None:
    # An escape sequence inside a string that the checker quotes back in its message, and a
    # right-to-left override in a comment on the line of the code frame.
    text = VALID.replace('notes == "dose review"', 'age == "\x1b[31mred" # \u202e reversed')
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert "\x1b" not in output and "\u202e" not in output
    assert '`"\\x1b[31mred"` is not a number  [LR302]' in output
    frame = next(line for line in output.splitlines() if "# " in line and " | " in line)
    assert 'age == "\ufffd[31mred" # \ufffd reversed' in frame


def test_caret_lines_up_under_wide_characters(tmp_path: Path) -> None:
    text = VALID.replace('"Older patients', '"高齢の患者 Older patients').replace(
        "when age >= 65 and", 'when age >= 65 and notes == "漢字" and age = 3 and'
    )
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    lines = output.splitlines()
    frame = next(i for i, line in enumerate(lines) if "漢字" in line and " | " in line)
    source, caret = lines[frame], lines[frame + 1]
    # display width: every CJK character takes two cells
    prefix = source[: source.index("age = 3") + len("age ")]
    cells = sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in prefix)
    assert caret.index("^") == cells


def test_very_long_lines_are_shown_as_a_window(tmp_path: Path) -> None:
    deep = "(" * 10_000 + "age > 3" + ")" * 10_000
    text = VALID.replace("when age < 65", f"when {deep}")
    status, output = check_file(tmp_path, text.encode())
    assert status == 1
    assert max(len(line) for line in output.splitlines()) < 200
