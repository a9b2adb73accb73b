"""`leukorules diff OLD NEW`: what changes between two versions of a policy.

Prints the rule-level edits, then (with the solver, the `prove` extra) for each rule the
patients whose outcome changes, described as conditions and counted; with `--cohort FILE`, the
cohort's patients whose results differ, on the chosen cohort engine.
Exit status: 0 compared (whether or not anything differs); 1 a policy has errors or the cohort
cannot be read; 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leukorules.cli.common import EXIT_OK, fail, load_or_exit


@click.command()
@click.argument("old", type=click.Path(path_type=Path, exists=True))
@click.argument("new", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for reviewers, json for programs.",
)
@click.option(
    "--cohort",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Also list the patients of this cohort (JSON Lines, CSV, Parquet) whose results change.",
)
@click.option(
    "--engine",
    type=click.Choice(["python", "duckdb"]),
    default="python",
    show_default=True,
    help="Cohort engine for --cohort.",
)
@click.option("--id-column", default="id", show_default=True, help="The cohort's id column.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes of the python cohort engine (default: every core).",
)
@click.option(
    "--rules-only", is_flag=True, help="Only the rule-level edits: no solver, no patients."
)
def diff(
    old: Path,
    new: Path,
    output_format: str,
    cohort: Path | None,
    engine: str,
    id_column: str,
    jobs: int | None,
    rules_only: bool,
) -> None:
    """Compare two versions OLD and NEW of a policy (files or folders).

    Exit status: 0 compared, 1 a policy has errors (or the cohort cannot be read), 2 usage
    error.
    """
    from leukorules.prove.diff import policy_diff
    from leukorules.prove.diff_report import render_json, render_text
    from leukorules.prove.solver import SolverMissing

    before = load_or_exit([old]).policy
    after = load_or_exit([new]).policy
    assert before is not None and after is not None
    edits = policy_diff(before, after)
    semantic = None
    if not rules_only:
        from leukorules.prove.semantic_diff import semantic_diff

        try:
            semantic = semantic_diff(before, after)
        except SolverMissing as error:
            fail(f"{error} (or give --rules-only)")
    changed = None
    if cohort is not None:
        from leukorules.cohort.readers import CohortError
        from leukorules.prove.cohort_diff import cohort_diff

        try:
            changed = cohort_diff(
                before,
                after,
                cohort,
                "duckdb" if engine == "duckdb" else "python",
                id_column,
                jobs,
            )
        except CohortError as error:
            fail(f"{cohort}: {error}")
    render = render_json if output_format == "json" else render_text
    click.echo(render(edits, semantic, changed), nl=False)
    sys.exit(EXIT_OK)
