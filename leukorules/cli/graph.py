"""`leukorules graph`: the rule graph of a policy as Mermaid, Graphviz DOT or SVG."""

from __future__ import annotations

from pathlib import Path

import click

from leukorules.authoring.diagram import FORMATS, build_graph, render
from leukorules.cli.common import fail, load_or_exit, policy_paths


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="mermaid for Markdown, dot for Graphviz, svg for a picture (no Graphviz needed).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def graph(paths: tuple[Path, ...], output_format: str, output: Path | None) -> None:
    """Draw the rule graph of a policy (default: the bundled policy).

    Nodes: facts, derived facts, rules (with their evidence) and the recommendations or
    statements they conclude. Edges: reads, derives, concludes, overrides (precedence) and
    after (sequencing). Exit status: 0 drawn, 1 the policy has errors, 2 usage error.
    """
    result = load_or_exit(policy_paths(paths))
    assert result.policy is not None
    text = render(build_graph(result.policy), output_format)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
