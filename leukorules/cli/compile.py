"""`leukorules compile`: print a policy's compiled forms, for people to read and review.

`--emit python` prints the generated evaluator (`leukorules.engine.codegen`: `_core` for
`evaluate`, `_decide` for `decide`); `--emit sql` prints the SQL the duckdb cohort engine runs
(`leukorules.cohort`). Both are deterministic: the same policy gives the same bytes, and the
tests keep golden copies of the bundled policy's, so a change in the compiler shows in review.
Exit status: 0 printed, 1 the policy has errors, 2 usage error.
"""

from __future__ import annotations

from pathlib import Path

import click

from leukorules.cli.common import fail, load_or_exit, policy_paths

EMITS = ("python", "sql")


def emitted(paths: list[Path], emit: str) -> str:
    """The compiled form `emit` of the policy at `paths`, with a header naming what it is."""
    result = load_or_exit(paths)
    policy = result.policy
    assert policy is not None
    if emit == "python":
        from leukorules.engine.compile import compile_policy

        body = compile_policy(policy, result.sources).source
        comment = "#"
    else:
        from leukorules.cohort.dialect import SQLCompileError
        from leukorules.cohort.duckdb import DuckDBDialect
        from leukorules.cohort.query import render_sql

        try:
            body = render_sql(policy, DuckDBDialect())
        except SQLCompileError as error:
            fail(f"policy {policy.id} cannot be compiled to SQL: {error}")
        comment = "--"
    header = (
        f"{comment} leukorules compile --emit {emit}: policy {policy.id} version {policy.version}\n"
        f"{comment} generated code, for reading; leukorules regenerates it from the policy\n"
    )
    return header + body


@click.command(name="compile")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--emit",
    type=click.Choice(EMITS),
    default="python",
    show_default=True,
    help="python: the generated evaluator; sql: the cohort query of the duckdb engine.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def compile_command(paths: tuple[Path, ...], emit: str, output: Path | None) -> None:
    """Print the compiled form of a policy (default: the bundled policy)."""
    text = emitted(policy_paths(paths), emit)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
