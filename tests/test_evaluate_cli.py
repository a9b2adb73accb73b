"""`leukorules evaluate` and `leukorules explain`: goldens of every rendering, exit statuses,
diagnostics for bad facts, colour only when asked, and no facts leaking into errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from html import unescape
from pathlib import Path

import jsonschema
import pytest
from support.cli import PLAIN, leukorules
from support.golden import Golden

from leukorules import load_policy
from leukorules.report.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "evaluate"
POLICY = GOLDEN / "policy.rules"
PATIENTS = sorted((GOLDEN / "patients").iterdir())
EXPECTED = GOLDEN / "expected"
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "result.schema.json").read_text("utf-8")
)
SUFFIX = {"text": "txt", "json": "json", "markdown": "md"}
COLOUR: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": "1"}


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
@pytest.mark.parametrize("patient", PATIENTS, ids=lambda p: p.name)
def test_golden_renderings(patient: Path, fmt: str, golden: Golden) -> None:
    result = leukorules("evaluate", str(patient), "--policy", str(POLICY), "--format", fmt)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    golden.check(EXPECTED / f"{patient.stem}.{SUFFIX[fmt]}", result.stdout)
    if fmt == "json":
        jsonschema.validate(json.loads(result.stdout), SCHEMA)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_golden_trace(fmt: str, golden: Golden) -> None:
    patient = GOLDEN / "patients" / "not-responding-pregnant.json"
    result = leukorules(
        "evaluate", str(patient), "--policy", str(POLICY), "--trace", "--format", fmt
    )
    assert result.exit_code == 0, result.output
    golden.check(EXPECTED / f"not-responding-pregnant.trace.{SUFFIX[fmt]}", result.stdout)
    if fmt == "json":
        document = json.loads(result.stdout)
        jsonschema.validate(document, SCHEMA)
        assert [t["rule"] for t in document["trace"]] == list(document["outcomes"])


@pytest.mark.parametrize(
    ("patient", "rule_id"),
    [
        ("severe-responding.yaml", "treat.first"),  # fired, through a derived fact
        ("severe-responding.yaml", "treat.second"),  # not fired: first false sub-condition
        ("not-responding-pregnant.json", "treat.second"),  # overridden
        ("little-known.yaml", "severity.mild"),  # undetermined
        ("little-known.yaml", "gap.mild_atypical"),  # a gap
    ],
)
def test_golden_explanations(patient: str, rule_id: str, golden: Golden) -> None:
    path = GOLDEN / "patients" / patient
    result = leukorules("explain", str(path), rule_id, "--policy", str(POLICY))
    assert result.exit_code == 0, result.output
    golden.check(EXPECTED / f"explain.{Path(patient).stem}.{rule_id}.txt", result.stdout)


def test_same_facts_give_byte_identical_json_in_any_format_and_order(tmp_path: Path) -> None:
    patient = GOLDEN / "patients" / "not-responding-pregnant.json"
    facts = json.loads(patient.read_text("utf-8"))
    reordered = tmp_path / "patient.yaml"
    reordered.write_text(
        "".join(f"{k}: {json.dumps(v)}\n" for k, v in reversed(facts.items())), "utf-8"
    )
    first = leukorules("evaluate", str(patient), "--policy", str(POLICY), "--format", "json")
    second = leukorules("evaluate", str(reordered), "--policy", str(POLICY), "--format", "json")
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_stdin() -> None:
    result = leukorules(
        "evaluate", "-", "--policy", str(POLICY), "--format", "json", stdin="age: 70\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["derived"]["severity"]["value"] == "severe"
    result = leukorules("evaluate", "-", "--policy", str(POLICY), stdin='{"age": 70}')
    assert result.exit_code == 0 and "RECOMMENDATIONS" in result.stdout


def test_colour_only_when_asked() -> None:
    patient = str(GOLDEN / "patients" / "severe-responding.yaml")
    plain = leukorules("evaluate", patient, "--policy", str(POLICY))
    assert "\x1b[" not in plain.stdout
    coloured = leukorules("evaluate", patient, "--policy", str(POLICY), env=COLOUR)
    assert "\x1b[1;32mDrug A\x1b[0m" in coloured.stdout
    json_output = leukorules(
        "evaluate", patient, "--policy", str(POLICY), "--format", "json", env=COLOUR
    )
    assert "\x1b[" not in json_output.stdout


# --- bad input --------------------------------------------------------------------------------


def test_every_bad_fact_is_reported_on_stderr_with_exit_status_1(tmp_path: Path) -> None:
    facts = tmp_path / "bad.yaml"
    facts.write_text(
        "age: 130\nweigth: 80\nseverity: mild\ndiagnosis: typicl\npregnant: maybe\n"
        "symptoms: [headache, fever]\ndiagnosed_on: 2025-02-30\n",
        "utf-8",
    )
    result = leukorules("evaluate", str(facts), "--policy", str(POLICY))
    assert result.exit_code == 1
    assert result.stdout == ""
    err = result.stderr
    assert "Traceback" not in err
    for expected in [
        "bad.yaml:1:1: error: `age` = 130 is outside its declared range 0..120  [LR505]",
        "bad.yaml:2:1: error: `weigth` is not a fact of this policy  [LR502]",
        "hint: did you mean `weight`?",
        "bad.yaml:3:1: error: `severity` is a derived fact",
        "`typicl` is not an allowed value of `diagnosis`  [LR504]",
        "allowed values: typical, atypical, other",
        "`pregnant` must be true or false; it is text  [LR503]",
        "`fever` is not an allowed value of `symptoms` (item 2)",
        "bad.yaml:7:1: error: `diagnosed_on` is not a calendar date",
        "bad.yaml: 7 problems; nothing was evaluated",
    ]:
        assert expected in err, expected


def test_malformed_facts_report_the_line(tmp_path: Path) -> None:
    facts = tmp_path / "broken.json"
    facts.write_text('{\n  "age": 70,\n  "weight": ,\n}\n', "utf-8")
    result = leukorules("evaluate", str(facts), "--policy", str(POLICY))
    assert result.exit_code == 1
    assert "broken.json:3:13: error: malformed JSON: Expecting value  [LR507]" in result.stderr
    facts = tmp_path / "list.yaml"
    facts.write_text("- age: 70\n", "utf-8")
    result = leukorules("evaluate", str(facts), "--policy", str(POLICY))
    assert result.exit_code == 1
    assert "is a list, not a mapping" in result.stderr
    result = leukorules("evaluate", str(tmp_path / "absent.json"), "--policy", str(POLICY))
    assert result.exit_code == 1
    assert "cannot read facts file" in result.stderr


def test_facts_do_not_leak_into_diagnostics(tmp_path: Path) -> None:
    facts = tmp_path / "patient.yaml"
    facts.write_text("diagnosis: typical\nage: 1000\nweight: 77.25\npregnant: 'Jane Doe'\n")
    result = leukorules("evaluate", str(facts), "--policy", str(POLICY))
    assert result.exit_code == 1
    assert "1000" in result.stderr  # the offending value is quoted where it must be fixed
    for private in ("typical", "77.25", "Jane Doe"):
        assert private not in result.stderr


def test_a_bad_policy_exits_1_with_its_diagnostics(tmp_path: Path) -> None:
    policy = tmp_path / "bad.rules"
    policy.write_text('policy p { title "P" version "1" }\nrule r { statement "S" }\n', "utf-8")
    facts = tmp_path / "f.json"
    facts.write_text("{}", "utf-8")
    for command in (["evaluate", str(facts)], ["explain", str(facts), "r"]):
        result = leukorules(*command, "--policy", str(policy))
        assert result.exit_code == 1
        assert result.stdout == ""
        assert "error:" in result.stderr and "[LR" in result.stderr


def test_explain_an_unknown_rule_is_a_usage_error() -> None:
    patient = str(GOLDEN / "patients" / "severe-responding.yaml")
    result = leukorules("explain", patient, "treat.frist", "--policy", str(POLICY))
    assert result.exit_code == 2
    assert "has no rule or gap `treat.frist`" in result.stderr
    assert "did you mean `treat.first`" in result.stderr
    result = leukorules("explain", patient, "zzz", "--policy", str(POLICY))
    assert result.exit_code == 2
    assert "rules and gaps" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate"],
        ["explain", "facts.json"],
        ["evaluate", "f.json", "--format", "pdf"],
        ["evaluate", "f.json", "--bogus"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert leukorules(*args).exit_code == 2


def test_explain_json_and_markdown() -> None:
    patient = str(GOLDEN / "patients" / "severe-responding.yaml")
    result = leukorules(
        "explain", patient, "treat.first", "--policy", str(POLICY), "--format", "json"
    )
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert (document["rule"], document["outcome"]) == ("treat.first", "fired")
    assert document["chain"] == ["severity.severe"]
    result = leukorules(
        "explain", patient, "treat.first", "--policy", str(POLICY), "--format", "markdown"
    )
    assert result.exit_code == 0 and result.stdout.startswith("# Explanation: `treat.first`")


def test_the_bundled_policy_is_the_default(tmp_path: Path) -> None:
    facts = tmp_path / "patient.json"
    facts.write_text("{}", "utf-8")
    result = leukorules("evaluate", str(facts), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["policy"]["id"] == "leukoencephalopathy"
    jsonschema.validate(document, SCHEMA)


@pytest.mark.slow
def test_end_to_end_through_a_subprocess() -> None:
    patient = GOLDEN / "patients" / "severe-responding.yaml"
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "leukorules", "evaluate", str(patient), "--policy"]
    done = subprocess.run(
        [*command, str(POLICY)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (EXPECTED / "severe-responding.txt").read_text("utf-8")
    bad = subprocess.run(
        [*command, str(POLICY), "--format", "nope"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2


def test_log_labels_without_a_log_are_a_usage_error_before_facts_are_read(tmp_path: Path) -> None:
    bad_facts = tmp_path / "bad.yaml"
    bad_facts.write_text("hiv_positiv: true\n")
    result = leukorules("evaluate", str(bad_facts), "--user", "dr.a")
    assert result.exit_code == 2
    assert "--user labels a logged decision" in result.output
    assert "hiv_positiv" not in result.output


# --- what a clinician reads: terminal safety, references, notes, whole statements ------------

# A policy whose texts hold control characters (written raw in the file: ESC, BEL, a bidi
# override), a note that says "Note that ...", and a statement longer than any wrap width.
HOSTILE_POLICY = (
    'policy hostile { title "Title \x1b[2J" version "1" }\n'
    'evidence 1 { citation "Citation \x07" }\n'
    "evidence 2 { citation unknown }\n"
    'fact note: string "A free-text note"\n'
    "fact flag: bool\n"
    "rule r.one {\n"
    '  statement "Statement \x1b[31mred \u202eevil"\n'
    "  evidence 1, 2\n"
    "  when note is known\n"
    '  recommend "Action \x1b]0;title\x07"\n'
    "}\n"
    'rule r.two { statement "Note that x may lag behind y" evidence 2 when flag note }\n'
    'rule r.three { statement "'
    + " ".join(f"word{n}" for n in range(80))
    + '" evidence 2 when flag caution }\n'
)
HOSTILE_FACTS = {"note": "value \x1b]0;pwned\x07\r\u202eX\x1b[2K", "flag": True}
# Our own colour codes, the only escape sequences a report may write.
OWN_COLOUR = r"\x1b\[[0-9;]*m"


def _hostile(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "hostile.rules"
    policy.write_text(HOSTILE_POLICY, encoding="utf-8")
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(HOSTILE_FACTS), encoding="utf-8")
    return policy, facts


def _only_printable(output: str, colour: bool) -> None:
    shown = re.sub(OWN_COLOUR, "", output) if colour else output
    for line in shown.split("\n"):
        assert line.isprintable(), repr(line)


@pytest.mark.parametrize("env", [PLAIN, COLOUR], ids=["plain", "colour"])
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_control_characters_never_reach_the_terminal(
    tmp_path: Path, fmt: str, env: dict[str, str | None]
) -> None:
    policy, facts = _hostile(tmp_path)
    colour = env is COLOUR and fmt == "text"
    runs = [
        leukorules(
            "evaluate", str(facts), "--policy", str(policy), "--trace", "--format", fmt, env=env
        ),
        leukorules(
            "explain", str(facts), "r.one", "--policy", str(policy), "--format", fmt, env=env
        ),
    ]
    for result in runs:
        assert result.exit_code == 0, result.output
        _only_printable(result.stdout, colour)
        # escaped, not dropped: the reader still sees that something odd was there (markdown
        # also escapes its own specials with backslashes, hence the comparison without them)
        shown = result.stdout.replace("\\", "")
        assert "x1b]0;pwned" in shown and "u202e" in shown
    evaluation = runs[0].stdout.replace("\\", "")
    assert "x1b[2J" in evaluation and "x07" in evaluation  # the title and the citation


def test_evidence_is_named_as_the_sources_reference_in_every_report() -> None:
    patient = str(ROOT / "examples" / "patients" / "adem-plasma-exchange-nonresponder.yaml")
    wording = "reference [4] in the source; no citation given"
    text = leukorules("evaluate", patient).stdout
    assert f"evidence: {wording}" in text
    markdown = leukorules("evaluate", patient, "--format", "markdown").stdout
    assert "- Evidence: reference [\\[4\\]](#evidence-4) in the source; no citation given" in (
        markdown
    )
    page = leukorules("evaluate", patient, "--format", "html").stdout
    assert "reference <strong>[4]</strong> in the source; no citation given" in page
    for output in (text, markdown, page):
        assert "evidence 4 (" not in output and "evidence: 4 " not in output


def test_a_note_that_says_note_is_not_labelled_again(tmp_path: Path) -> None:
    policy, facts = _hostile(tmp_path)
    outputs = {
        fmt: leukorules("evaluate", str(facts), "--policy", str(policy), "--format", fmt).stdout
        for fmt in ("text", "markdown", "html")
    }
    assert "   - Note that x may lag behind y" in outputs["text"]
    assert ") Note that x may lag behind y" in outputs["markdown"]
    assert '<p class="note-text">Note that x may lag behind y' in outputs["html"]
    for output in outputs.values():
        assert "Note: Note that" not in output and "**Note** (" not in output
        assert "Note:</span> Note that" not in output
    # a caution that does not say so itself keeps its label
    assert "   - Caution: word0 word1" in outputs["text"]
    assert "- **Caution** ((general)): word0 word1" in outputs["markdown"].replace("\\", "")
    assert '<span class="action">Caution:</span> word0 word1' in outputs["html"]


def test_no_statement_is_cut_short(tmp_path: Path) -> None:
    policy, facts = _hostile(tmp_path)
    words = [f"word{n}" for n in range(80)]
    for fmt in ("text", "markdown", "html"):
        output = leukorules("evaluate", str(facts), "--policy", str(policy), "--format", fmt).stdout
        assert "…" not in output, fmt
        assert all(word in output for word in words), fmt
    page = leukorules("evaluate", str(facts), "--policy", str(policy), "--format", "html").stdout
    diagram = page[page.index('<section id="chain">') : page.index('<section id="guideline">')]
    drawn = " ".join(unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", diagram))
    assert "…" not in drawn and all(word in drawn.split() for word in words)


def test_markdown_links_only_web_addresses() -> None:
    """`check` refuses any other url; a result saved and rendered again later is held to the
    same rule."""
    compiled = load_policy(POLICY)
    evaluation = compiled.evaluate(compiled.validate({"age": 40}))
    evidence = dict(evaluation.policy.evidence)
    addresses = {
        "1": "https://example.org/guideline#1",
        "2": "javascript:alert(1)",
        "3": "file:///etc/passwd",
    }
    for ref, url in addresses.items():
        evidence[ref] = replace(evidence[ref], url=url)
    saved = replace(evaluation, policy=replace(evaluation.policy, evidence=evidence))
    markdown = render_markdown(saved)
    assert "[url](https://example.org/guideline\\#1)" in markdown
    assert "javascript" not in markdown and "file:" not in markdown
