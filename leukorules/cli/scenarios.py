"""`leukorules test` (scenario files) and `leukorules coverage` (guideline coverage)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from leukorules.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    echo_default_policy_note,
    fail,
    load_or_exit,
    policy_paths,
    print_diagnostics,
)
from leukorules.diagnostics import Severity

if TYPE_CHECKING:
    from leukorules.authoring.scenarios import Evaluator

# --- test ---------------------------------------------------------------------------------------


def _holds_rules(folder: Path) -> bool:
    return any(p.is_file() for p in folder.rglob("*.rules"))


def _policy_above(start: Path) -> Path | None:
    """`start` or the folder above it, whichever first holds policy files directly.

    Scenario files live beside a policy or in a folder inside it (`scenarios/`); looking
    further up would pick up unrelated policies.
    """
    for folder in (start, start.resolve().parent):
        if any(p.is_file() for p in folder.glob("*.rules")):
            return folder
    return None


def _plan(paths: tuple[Path, ...], policy: Path | None) -> dict[Path, dict[Path, bool]]:
    """Policy -> the scenario files to run against it, in the order the paths were given, each
    with whether it was named explicitly (True) or found in a folder (False: a file shaped like
    a facts file is then passed over, see docs/scenarios.md)."""
    from leukorules.authoring.scenarios import SCENARIO_SUFFIXES, scenario_files

    plan: dict[Path, dict[Path, bool]] = {}

    def add(policy_path: Path, files: list[Path], explicit: bool = False) -> None:
        bucket = plan.setdefault(policy_path, {})
        for file in files:
            bucket[file] = bucket.get(file, False) or explicit

    if not paths:
        target = policy if policy is not None else policy_paths(None)[0]
        folder = target if target.is_dir() else target.parent
        add(target, scenario_files(folder))
        return plan
    for path in paths:
        if not path.exists():
            fail(f"{path}: no such file or folder")
        if path.is_dir():
            files = scenario_files(path)
            if policy is not None:
                owner: Path | None = policy
            elif _holds_rules(path):
                owner = path
            else:
                owner = _policy_above(path)
        elif path.suffix == ".rules":
            owner = policy if policy is not None else path
            files = scenario_files(path.parent)
        elif path.suffix.lower() in SCENARIO_SUFFIXES:
            files = [path]
            owner = policy if policy is not None else _policy_above(path.parent)
            if owner is not None:
                add(owner, files, explicit=True)
                continue
        else:
            fail(f"{path}: not a scenario file (.yaml or .yml), a policy file or a folder")
        if owner is None:
            fail(
                f"{path}: no policy found beside it or in the folder above; "
                "say which with --policy",
            )
        add(owner, files)
    return plan


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "policy_option",
    type=click.Path(path_type=Path, exists=True),
    help="The policy file or folder to test (default: the policy in the scenario file's "
    "folder or the folder above it; with no PATH, the bundled policy).",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=0.0,
    show_default=True,
    help="Exit 1 when the scenarios fire fewer than this percentage of the policy's rules.",
)
@click.option("-v", "--verbose", is_flag=True, help="List every scenario, passing ones too.")
def test(
    paths: tuple[Path, ...], policy_option: Path | None, fail_under: float, verbose: bool
) -> None:
    """Run scenario files against a policy and report rule coverage.

    PATH is a scenario file, a folder of them, or a policy folder (its scenario files are the
    *.yaml files in it that hold a list of scenarios; one holding a mapping without a
    `scenarios` key, such as a patient's facts, is passed over with a note). With no PATH: the
    bundled policy and its scenarios. The format: docs/scenarios.md.

    Prints a diff for each failing scenario, then `N passed, M failed`, then the rules that no
    scenario fired. Exit status: 0 all passed, 1 a failure, a bad scenario file, or rule
    coverage below --fail-under; 2 usage error.
    """
    from leukorules.authoring.scenario_files import read_scenario_file
    from leukorules.authoring.scenarios import (
        ScenarioResult,
        duplicate_names,
        rule_coverage,
        run_scenario,
    )

    if not paths:
        echo_default_policy_note([policy_option] if policy_option else None)
    plan = _plan(paths, policy_option)
    passed = failed = 0
    bad_files = False
    below: list[str] = []
    coverage_lines: list[str] = []
    for policy_path, files in plan.items():
        if not files:
            click.echo(f"leukorules: error: no scenario files (*.yaml) for {policy_path}", err=True)
            bad_files = True
            continue
        evaluator = _evaluator(policy_path)
        policy = evaluator.policy
        scenarios = []
        read_any = False
        for file, explicit in files.items():
            read = read_scenario_file(file, policy, explicit)
            if read.not_scenarios is not None:
                click.echo(f"leukorules: note: passed over {file}: {read.not_scenarios}", err=True)
                continue
            read_any = True
            for problem in read.problems:
                click.echo(problem.render(), err=True)
            bad_files = bad_files or bool(read.problems)
            scenarios.extend(read.scenarios)
        if not read_any:
            click.echo(f"leukorules: error: no scenario files (*.yaml) for {policy_path}", err=True)
            bad_files = True
            continue
        for problem in duplicate_names(scenarios):
            click.echo(problem.render(), err=True)
            bad_files = True
        results: list[ScenarioResult] = []
        for scenario in scenarios:
            result = run_scenario(evaluator, scenario)
            results.append(result)
            if result.passed:
                passed += 1
                if verbose:
                    click.echo(f"PASS {scenario.where}: {scenario.name}")
            else:
                failed += 1
                click.echo(result.report())
        coverage = rule_coverage(policy, results)
        coverage_lines.append(coverage.summary(policy.id))
        if coverage.never_fired:
            coverage_lines.append("rules never fired: " + ", ".join(coverage.never_fired))
        if coverage.percent + 1e-9 < fail_under:
            below.append(f"{policy.id} {coverage.percent:.1f}%")
    click.echo(f"{passed} passed, {failed} failed")
    for line in coverage_lines:
        click.echo(line)
    if below:
        click.echo(
            f"leukorules: error: rule coverage below {fail_under:g}%: " + ", ".join(below),
            err=True,
        )
    if bad_files:
        click.echo("leukorules: error: some scenario files could not be used (see above)", err=True)
    sys.exit(EXIT_BAD_INPUT if failed or below or bad_files else EXIT_OK)


def _evaluator(policy_path: Path) -> Evaluator:
    """The checked, compiled policy; on policy errors print them and exit 1."""
    from leukorules.engine.compile import compile_policy

    result = load_or_exit([policy_path])
    warnings = [d for d in result.diagnostics if d.severity is Severity.WARNING]
    if warnings:
        print_diagnostics(result, warnings)
    assert result.policy is not None
    return compile_policy(result.policy, result.sources)


# --- coverage -----------------------------------------------------------------------------------


@click.command()
@click.argument("policies", metavar="[POLICY]...", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--source",
    "source_path",
    type=click.Path(path_type=Path),
    help="The guideline's text (default: the document the policy's `source` names, looked up "
    "beside its main file and in a source/ folder there).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=100.0,
    show_default=True,
    help="Exit 1 when fewer than this percentage of the source's statements are covered.",
)
def coverage(
    policies: tuple[Path, ...], source_path: Path | None, output_format: str, fail_under: float
) -> None:
    """Guideline coverage: is every statement of the source quoted by a rule?

    Splits the source into statements (lines ending in an evidence number; the lines without
    one are headings and give each statement its section) and matches each to the rules
    quoting it, whitespace-insensitively. A statement is covered when its rules agree with the
    source on evidence and section. Also lists rules quoting text the source does not contain,
    and headings with nothing under them (with the gaps declared for them).

    Exit status: 0 when coverage reaches --fail-under and every rule quotes the source; 1
    otherwise or on bad input; 2 usage error.
    """
    from leukorules.authoring.coverage import (
        compare,
        default_source,
        render_json,
        render_markdown,
        render_text,
        split_source,
    )
    from leukorules.reading import (
        MAX_SOURCE_BYTES,
        FileRefused,
        SourceError,
        decode_source,
        read_regular_file,
    )

    targets = policy_paths(policies)
    echo_default_policy_note(policies, err=output_format != "text")
    result = load_or_exit(targets)
    policy = result.policy
    assert policy is not None
    if source_path is None:
        source_path = default_source(policy, [t if t.is_dir() else t.parent for t in targets])
        if source_path is None:
            named = f"`source {policy.source!r}`" if policy.source else "no `source`"
            fail(f"policy {policy.id} names {named} and no such file was found; give --source")
    try:
        raw = read_regular_file(source_path, MAX_SOURCE_BYTES)
        text = decode_source(str(source_path), raw).text
    except (OSError, FileRefused) as error:
        reason = error.strerror if isinstance(error, OSError) else None
        fail(f"cannot read the source {source_path}: {reason or error}")
    except SourceError as error:
        fail(f"{error.diagnostic.span}: {error.diagnostic.message}")
    document = split_source(text, str(source_path))
    if not document.statements:
        fail(f"{source_path}: no statements found (no line ends in an evidence number)")
    report = compare(policy, document)
    if output_format == "json":
        click.echo(render_json(report), nl=False)
    elif output_format == "markdown":
        click.echo(render_markdown(report), nl=False)
    else:
        click.echo(render_text(report), nl=False)
    sys.exit(EXIT_OK if report.passes(fail_under) else EXIT_BAD_INPUT)
