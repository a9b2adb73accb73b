"""`leukorules check`: parse and check policy files, print diagnostics."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from leukorules.check import check_paths
from leukorules.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    echo_default_policy_note,
    policy_paths,
    use_color,
)
from leukorules.diagnostics import Code, has_errors, render_json, render_text, summary_line


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for editors and CI.",
)
@click.option("--explain-codes", is_flag=True, help="List every diagnostic code and exit.")
def check(paths: tuple[Path, ...], output_format: str, explain_codes: bool) -> None:
    """Parse and check policy files or folders (default: the bundled policies).

    Without a path, the first line names the policy folder used (on stderr with --format json).
    Exit status: 0 clean or warnings only, 1 errors, 2 usage error.
    """
    if explain_codes:
        for code in Code:
            click.echo(f"{code}  {code.severity.label:<7}  {code.description}")
        return
    targets = policy_paths(paths)
    echo_default_policy_note(paths, err=output_format == "json")
    result = check_paths(targets)
    if output_format == "json":
        click.echo(render_json(result.diagnostics), nl=False)
    else:
        text = render_text(result.diagnostics, result.sources, color=use_color(sys.stdout))
        click.echo(text, nl=False)
        click.echo(summary_line(result.diagnostics, len(result.sources)))
    sys.exit(EXIT_BAD_INPUT if has_errors(result.diagnostics) else EXIT_OK)
